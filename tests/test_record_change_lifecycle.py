"""Record changes beyond the address: a transfer through both managers and HR, undone through the
same approvals; cancellation; a future-dated raise that waits on a durable timer; bad input."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hrops import request_service as svc
from hrops.cli import app
from tests.conftest import TODAY, state_when
from tests.test_record_change_workflow import _pending_for
from tools.hr.changes import RecordChange
from tools.store.db import session_scope
from tools.store.models import AuditEntry, Compensation, JobAssignment, RequestRecord, Role, UserRole
from workflows import task_queues
from workflows.approvals import Decision, Verdict
from workflows.record_change.messages import ChangeRequest, Stage
from workflows.record_change.workflow import RecordChangeWorkflow
from workflows.worker import build_worker

TRANSFER = {"kind": "transfer", "org_unit": "ENG-DATA"}
RAISE = {"kind": "salary_change", "amount": "315000", "currency": "CNY"}


def _change(details: dict, on: date = TODAY, employee: str = "E1003") -> RecordChange:
    return RecordChange(employee_id=employee, details=details, effective_on=on)


async def _approve_all(client, request_id: str) -> svc.RequestState:
    """Each waiting approver approves in turn; returns the final state."""
    while True:
        state = await svc.wait_for_stage(
            client, request_id, {"awaiting_approval", "completed", "failed", "invalid", "scheduled"}
        )
        pending = state.approval.pending_usernames if state.approval else []
        if state.stage != "awaiting_approval" or not pending:
            if state.stage == "awaiting_approval":
                await asyncio.sleep(0.1)
                continue
            return state
        await svc.decide(client, request_id, svc.principal(pending[0]), Verdict.APPROVE)
        await asyncio.sleep(0.1)


def _jobs(url: str) -> list[tuple[int, str | None, date, date | None]]:
    with session_scope(url) as s:
        rows = s.scalars(
            select(JobAssignment).where(JobAssignment.employee_id == "E1003").order_by(JobAssignment.id)
        ).all()
        return [(j.org_unit_id, j.manager_id, j.valid_from, j.valid_to) for j in rows]


async def test_transfer_goes_through_both_managers_and_hr_and_an_undo_takes_the_same_road(
    temporal_env, main_worker, company
):
    client = temporal_env.client
    sub = await svc.submit_change(client, svc.principal("admin"), _change(TRANSFER))
    assert sub.created and sub.check.routing.new_manager_id == "E1001"
    state = await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    assert [(s.step, s.usernames) for s in state.approval.steps] == [
        ("manager", ["li.wei"]),
        ("new_manager", ["chen.jing"]),
        ("hrbp", ["amy.hughes"]),  # no HRBP covers the team: HR ops decide instead
    ]
    assert any("reports to 陈静 (E1001)" in s for s in state.check.side_effects)
    assert sub.request_id in await _pending_for(client, "li.wei", sub.request_id)
    # The same request again finds the pending one; another job change of E1003 is refused.
    again = await svc.submit_change(client, svc.principal("admin"), _change(TRANSFER))
    assert (again.created, again.request_id) == (False, sub.request_id)
    with pytest.raises(svc.RequestError, match="already has a pending transfer"):
        await svc.submit_change(
            client, svc.principal("admin"), _change({"kind": "job_title", "title": "Lead"})
        )
    with pytest.raises(svc.RequestError, match="may not decide the manager step"):
        await svc.decide(client, sub.request_id, svc.principal("wang.fang"), Verdict.APPROVE)
    await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)
    with pytest.raises(svc.RequestError, match="already decided the manager step"):
        await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)

    done = await _approve_all(client, sub.request_id)
    assert done.stage == "completed" and done.applied.table == "job_assignments"
    assert _jobs(company) == [(2, "E1002", date(2020, 3, 1), TODAY), (3, "E1001", TODAY, None)]
    with pytest.raises(svc.RequestError, match="nothing to cancel; undo it with `hrops undo REQ-1`"):
        await svc.cancel(client, sub.request_id, svc.principal("admin"), "changed my mind")

    undo = await svc.undo(client, sub.request_id, svc.principal("admin"))
    state = await svc.wait_for_stage(client, undo.request_id, {"awaiting_approval"})
    assert state.undoes == sub.request_id and state.change.details.org_unit == "ENG-PLAT"
    # The same rules, seen from where E1003 is now: Chen Jing is the manager, Li Wei the new one.
    assert [s.usernames for s in state.approval.steps] == [["chen.jing"], ["li.wei"], ["amy.hughes"]]
    undone = await _approve_all(client, undo.request_id)
    assert undone.stage == "completed" and undone.applied.rescinded_same_day
    # Undone on its first day: the transfer was never in force; the audit log keeps both.
    assert _jobs(company) == [(2, "E1002", date(2020, 3, 1), TODAY), (2, "E1002", TODAY, None)]
    with session_scope(company) as s:
        moves = s.scalars(select(AuditEntry).where(AuditEntry.action == "employee.transferred")).all()
    assert [(m.request_id, m.details["undoes"]) for m in moves] == [
        (sub.request_id, None),
        (undo.request_id, sub.request_id),
    ]


async def test_a_pending_request_is_cancelled_by_its_requester_and_nothing_is_written(
    temporal_env, main_worker, company
):
    client = temporal_env.client
    with session_scope(company, write=True) as s:
        s.add(UserRole(username="chen.jing", role=Role.HRBP, org_unit_id=1))
    sub = await svc.submit_change(client, svc.principal("li.wei"), _change(RAISE))
    state = await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    assert state.approval.rule == "salary_change" and state.check.routing.increase_percent == Decimal("5.00")
    with pytest.raises(svc.RequestError, match="only the requester"):
        await svc.cancel(client, sub.request_id, svc.principal("wang.fang"), "no")
    with pytest.raises(svc.RequestError, match="needs a reason"):
        await svc.cancel(client, sub.request_id, svc.principal("li.wei"), "  ")
    assert (
        await svc.cancel(client, sub.request_id, svc.principal("li.wei"), "budget moved")
        == "awaiting_approval"
    )
    final = await svc.wait_for_stage(client, sub.request_id, {"cancelled"})
    assert final.cancelled_by == "li.wei" and not final.applied
    assert sub.request_id not in await _pending_for(client, "chen.jing", "never")
    with session_scope(company) as s:
        assert s.scalar(select(func.count()).select_from(Compensation)) == 5  # one per person, untouched
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == sub.request_id)).all()
    assert "request.cancelled" in actions and "employee.salary_changed" not in actions


async def test_an_approved_future_raise_waits_for_its_effective_date(manual_clock_env, company):
    env, on = manual_clock_env, TODAY + timedelta(days=8)
    with session_scope(company, write=True) as s:
        s.add(UserRole(username="chen.jing", role=Role.HRBP, org_unit_id=1))
    request = ChangeRequest(
        request_id="REQ-1",
        change=_change(RAISE, on),
        requested_by="amy.hughes",
        requester_roles=frozenset({Role.HR_OPS}),
    )
    async with build_worker(env.client, task_queues.MAIN):
        handle = await env.client.start_workflow(
            RecordChangeWorkflow.run, request, id="record-change-E1003-pay", task_queue=task_queues.MAIN
        )
        for approver in ("li.wei", "chen.jing"):
            await state_when(
                handle,
                RecordChangeWorkflow.state,
                lambda s, a=approver: s.approval and a in s.approval.pending_usernames,
            )
            await handle.execute_update(
                RecordChangeWorkflow.decide,
                Decision(request_id="REQ-1", approver=approver, verdict=Verdict.APPROVE),
            )
        state = await state_when(handle, RecordChangeWorkflow.state, lambda s: s.stage is Stage.SCHEDULED)
        assert (
            state.stage is Stage.SCHEDULED
            and state.scheduled_for.date() - state.requested_at.date() == timedelta(days=8)
        )
        with session_scope(company) as s:
            assert s.scalar(select(Compensation).where(Compensation.request_id == "REQ-1")) is None
        await env.fast_forward(handle, timedelta(days=9))
        final = await handle.result()
    assert final.stage is Stage.COMPLETED and final.applied.effective_on == on
    with session_scope(company) as s:
        row = s.scalar(select(Compensation).where(Compensation.request_id == "REQ-1"))
    assert (row.base_amount, row.valid_from) == (Decimal("315000.00"), on)


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["salary-change", "E1003", "--amount", "-100", "--currency", "CNY"], "greater than 0"),
        (["salary-change", "E1003", "--amount", "1000", "--currency", "CNX"], "not a currency we pay in"),
        (["job-title", "E1003", "--title", "Lead", "--effective", "2026-02-30"], "is not a date"),
        (
            ["termination", "E1003", "--reason", "bored", "--effective", "2026-12-31"],
            "reason: Input should be",
        ),
    ],
)
def test_bad_requests_from_the_cli_say_what_is_wrong_and_start_nothing(company, args, message) -> None:
    out = runner.invoke(app, ["request", *args, "--as", "amy.hughes"], env={"COLUMNS": "200"})
    assert out.exit_code == 1 and message in str(out.exception), out.output
    with session_scope(company) as s:
        assert s.scalar(select(func.count()).select_from(RequestRecord)) == 0


@pytest.mark.parametrize(
    ("employee", "details", "on", "message"),
    [
        ("E9999", RAISE, TODAY, "no employee E9999"),
        ("E1003", TRANSFER | {"org_unit": "ENG-NOPE"}, TODAY, "no department ENG-NOPE"),
        ("E1003", RAISE, TODAY - timedelta(days=60), "more than 31 days in the past"),
        ("E1004", RAISE, TODAY, "is not active"),
    ],
)
async def test_requests_the_store_refuses_start_no_workflow(
    temporal_env, company, employee, details, on, message
):
    with pytest.raises(svc.RequestError, match=message):
        await svc.submit_change(
            temporal_env.client, svc.principal("amy.hughes"), _change(details, on, employee)
        )
    with session_scope(company) as s:
        assert s.scalar(select(func.count()).select_from(RequestRecord)) == 0


async def test_an_auto_approval_rule_applies_without_people_and_the_audit_names_the_rule(
    temporal_env, main_worker, company, tmp_path, monkeypatch
):
    from hrops.settings import reset_settings
    from tools.approvals import rules

    text = rules.SHIPPED.read_text().replace(
        "when: {change: job_title}\n    chain: [manager]", "when: {change: job_title}\n    chain: []"
    )
    (tmp_path / "rules.yaml").write_text(text)
    monkeypatch.setenv("HROPS_APPROVAL_RULES", str(tmp_path / "rules.yaml"))
    reset_settings()
    client = temporal_env.client
    sub = await svc.submit_change(
        client, svc.principal("admin"), _change({"kind": "job_title", "title": "Lead"})
    )
    state = await svc.wait_for_stage(client, sub.request_id, {"completed"})
    assert state.approval.steps == [] and state.approval.auto_approved_at is not None
    with session_scope(company) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "employee.job_title_changed"))
    assert entry.details["approved_by"] == "rule:job_title"
