"""The store schema: every column classified, migrations match the models, audit is append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.tamper import drop_audit_guards
from tools.store import audit
from tools.store.classification import Classification
from tools.store.db import engine_for, session_scope
from tools.store.models import Base


def test_every_column_has_a_classification() -> None:
    missing = [
        f"{table.name}.{col.name}"
        for table in Base.metadata.sorted_tables
        for col in table.columns
        if not isinstance(col.info.get("classification"), Classification)
    ]
    assert missing == []


def test_migrations_produce_exactly_the_models(store_url: str) -> None:
    with engine_for(store_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


@pytest.mark.sqlite_only("WAL is SQLite's journal mode")
def test_sqlite_store_runs_in_wal_mode(store_url: str) -> None:
    with engine_for(store_url).connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_audit_log_refuses_edits_and_deletes(store_url: str) -> None:
    with session_scope(store_url, write=True) as s:
        audit.append(s, audit.AuditEvent(actor="admin", action="test.first"))
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), session_scope(store_url, write=True) as s:
            s.execute(text(statement))


def test_audit_chain_detects_a_tampered_entry(store_url: str) -> None:
    with session_scope(store_url, write=True) as s:
        for i in range(3):
            audit.append(s, audit.AuditEvent(actor="admin", action="test.step", details={"i": i}))
    with session_scope(store_url) as s:
        assert audit.verify_chain(s) == []
    # Someone with write access drops the guards and edits the middle entry.
    with engine_for(store_url).begin() as conn:
        drop_audit_guards(conn)
        conn.exec_driver_sql("UPDATE audit_log SET actor = 'mallory' WHERE id = 2")
    with session_scope(store_url) as s:
        problems = audit.verify_chain(s)
    assert [p.entry_id for p in problems] == [2]


def test_bulk_audit_entries_chain_like_single_ones(store_url: str) -> None:
    with session_scope(store_url, write=True) as s:
        audit.append(s, audit.AuditEvent(actor="admin", action="test.first"))
        assert (
            audit.append_many(
                s, [audit.AuditEvent(actor="admin", action="test.bulk", entity_id=str(i)) for i in range(50)]
            )
            == 50
        )
        audit.append(s, audit.AuditEvent(actor="admin", action="test.last"))
    with session_scope(store_url) as s:
        assert audit.verify_chain(s) == []
