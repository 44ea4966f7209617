"""Property tests of the audit chain: any entries verify; any single edit is caught where it happened."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tools.store import audit
from tools.store.db import engine_for, migrate, session_scope

events = st.builds(
    audit.AuditEvent,
    actor=st.text(min_size=1, max_size=20),
    action=st.sampled_from(["employee.imported", "request.approved", "model.call"]),
    entity_id=st.none() | st.text(max_size=12),
    details=st.dictionaries(
        st.text(max_size=8), st.integers() | st.text(max_size=10) | st.booleans(), max_size=4
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(events, min_size=1, max_size=6), min_size=1, max_size=4), data=st.data())
def test_chain_verifies_and_pinpoints_an_edit(
    batches: list[list[audit.AuditEvent]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'a.db'}"
        migrate(url)
        with session_scope(url, write=True) as s:
            for i, batch in enumerate(batches):  # single appends and bulk appends interleaved
                if i % 2:
                    audit.append_many(s, batch)
                else:
                    for event in batch:
                        audit.append(s, event)
        with session_scope(url) as s:
            assert audit.verify_chain(s) == []
        total = sum(len(b) for b in batches)
        victim = data.draw(st.integers(1, total))
        with engine_for(url).begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
            conn.execute(text("UPDATE audit_log SET actor = actor || '!' WHERE id = :id"), {"id": victim})
        with session_scope(url) as s:
            assert [p.entry_id for p in audit.verify_chain(s)] == [victim]
        engine_for(url).dispose()
