"""The same store code on Postgres: migrations, effective-dated writes, the audit guarantees.
Uses HROPS_TEST_DATABASE_URL (a server URL) or a local server on 127.0.0.1:5432; each run gets its
own database, dropped afterwards. Skipped, saying so, when no server answers."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests import company as tiny
from tools.hr.schemas import AddressChange
from tools.registry import ApprovalGrant, ToolContext, registry
from tools.store import audit
from tools.store.db import engine_for, migrate, session_scope
from tools.store.models import EmployeeAddress, Role

SERVER = os.environ.get("HROPS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url(monkeypatch: pytest.MonkeyPatch):
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any connection failure means: no server here
        pytest.skip(
            f"no Postgres at {make_url(SERVER).render_as_string(hide_password=True)} ({type(e).__name__})"
        )
    name = f"hrops_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("HROPS_DATABASE_URL", url)
    from hrops.settings import reset_settings

    reset_settings()
    yield url
    engine_for(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_store_and_tools_work_on_postgres(pg_url: str) -> None:
    import tools.hr  # noqa: F401

    migrate(pg_url)
    migrate(pg_url)  # idempotent
    tiny.build(pg_url)
    change = {
        "employee_id": "E1003",
        "effective_on": "2026-11-23",
        "address": {"line1": "1 Jinke Road", "city": "Shanghai", "postcode": "201203", "country": "CN"},
    }
    grant = ApprovalGrant.for_args(
        AddressChange.model_validate(change),
        request_id="REQ-1",
        approver="li.wei",
        decided_at="2026-11-23T09:00:00Z",
    )
    ctx = ToolContext(actor="amy.hughes", roles=frozenset({Role.HR_OPS}), request_id="REQ-1", approval=grant)
    assert registry.call("employee.check_address_change", ctx, change).ok
    applied = registry.call("employee.change_address", ctx, change)
    assert registry.call("employee.change_address", ctx, change).already_applied
    with session_scope(pg_url) as s:
        rows = s.execute(
            select(EmployeeAddress.id, EmployeeAddress.valid_to)
            .where(EmployeeAddress.employee_id == "E1003")
            .order_by(EmployeeAddress.valid_from)
        ).all()
        assert rows[-1].id == applied.record_id and rows[0].valid_to is not None
        assert audit.verify_chain(s) == []
    with pytest.raises(DBAPIError, match="append-only"), session_scope(pg_url, write=True) as s:
        s.execute(text("DELETE FROM audit_log"))


def test_analytics_answers_the_same_on_postgres(pg_url: str) -> None:
    from tests.conftest import TODAY
    from tools.analytics.engine import answer
    from tools.analytics.query import AnalyticsQuery
    from tools.store.identity import resolve_principal

    migrate(pg_url)
    tiny.build(pg_url)
    with session_scope(pg_url) as s:
        admin = resolve_principal(s, "admin", TODAY)
        q = AnalyticsQuery(metrics=["headcount", "average_tenure"], by=["org_unit"])
        got = {r.groups["org_unit"]: r.values["headcount"] for r in answer(s, admin, q, TODAY).rows}
        year = AnalyticsQuery(
            metrics=["attrition_rate", "average_tenure"],
            period={"start": "2025-01-01", "end": "2025-12-31"},
        )
        [row] = answer(s, admin, year, TODAY).rows
    assert got == {"ROOT": 2, "ENG-PLAT": 2}
    assert round(row.values["attrition_rate"], 1) == 22.2 and row.values["average_tenure"] > 5
