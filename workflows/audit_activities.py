"""Audit entries for workflow events that are not tool calls (submitted, decided, expired)."""

from __future__ import annotations

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from hrops.settings import get_settings
    from tools.store import audit
    from tools.store.db import session_scope


@activity.defn(name="audit.record")
def record_event(event: audit.AuditEvent) -> int:
    with session_scope(get_settings().db_url, write=True) as session:
        return audit.append(session, event).id
