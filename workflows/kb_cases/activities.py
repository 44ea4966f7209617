"""The reminder activity: remind and escalate open cases in one transaction, each reminder once."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from hrops.clock import now
    from hrops.settings import get_settings
    from tools.knowledge.cases import remind_overdue
    from tools.store.db import session_scope
    from workflows.kb_cases.messages import Reminded


@activity.defn(name="kb.remind_overdue")
def remind_overdue_cases() -> Reminded:
    settings = get_settings()
    with session_scope(settings.db_url, write=True) as session:
        done = remind_overdue(
            session,
            now(),
            timedelta(hours=settings.kb_case_remind_hours),
            timedelta(hours=settings.kb_case_escalate_hours),
        )
    return Reminded(reminded=done.reminded, escalated=done.escalated)
