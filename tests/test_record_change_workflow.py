"""Record changes end to end (the address change first) on a real Temporal dev server with a sandboxed worker:
request -> check -> manager approval by Update -> effective-dated record + audit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from hrops import request_service as svc
from tests.conftest import TODAY
from tools.hr.schemas import PostalAddress
from tools.store import audit
from tools.store.db import session_scope
from tools.store.models import AuditEntry, EmployeeAddress
from workflows.approvals import Verdict

# The main flows on each store: Postgres is the production store (skipped, saying so, without a server).
pytestmark = pytest.mark.both_stores

NEW_HOME = PostalAddress(line1="1 Jinke Road", city="Shanghai", postcode="201203", country="CN")


async def _submit(
    client, who: str = "amy.hughes", employee: str = "E1003", address: PostalAddress = NEW_HOME
):
    return await svc.submit_address_change(client, svc.principal(who), employee, address)


async def _pending_for(client, username: str, request_id: str) -> list[str]:
    """The inbox is a visibility query, which trails the workflow by a moment."""
    for _ in range(50):
        ids = [i.request_id for i in await svc.inbox(client, svc.principal(username))]
        if request_id in ids:
            return ids
        await asyncio.sleep(0.1)
    return ids


async def test_manager_approves_and_the_address_is_applied_once(temporal_env, main_worker, company):
    client = temporal_env.client
    sub = await _submit(client)
    assert sub.created and sub.request_id == "REQ-1"
    state = await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    assert [[a.username for a in s.approvers] for s in state.approval.steps] == [["li.wei"]]
    assert state.approval.rule == "address_change" and "manager" in state.approval.steps[0].how
    diff = {d.field: (d.before, d.after) for d in state.check.diff}
    assert diff["line1"] == ("88 Century Avenue", NEW_HOME.line1) and state.change.details.address == NEW_HOME
    assert "E1003" in state.summary.en and "li.wei" in state.summary.en and state.summary.zh

    assert await _pending_for(client, "li.wei", sub.request_id) == [sub.request_id]
    record = await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)
    assert record.approver == "li.wei"
    state = await svc.wait_for_stage(client, sub.request_id, {"completed"})
    assert state.applied is not None and state.applied.effective_on == TODAY

    with session_scope(company) as s:
        rows = s.scalars(
            select(EmployeeAddress)
            .where(EmployeeAddress.employee_id == "E1003")
            .order_by(EmployeeAddress.valid_from)
        ).all()
        assert [(r.line1, r.valid_to) for r in rows] == [("88 Century Avenue", TODAY), ("1 Jinke Road", None)]
        assert rows[1].request_id == sub.request_id
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.request_id == sub.request_id).order_by(AuditEntry.id)
        ).all()
        assert actions == ["request.submitted", "model.call", "request.approved", "employee.address_changed"]
        change = s.scalar(select(AuditEntry).where(AuditEntry.action == "employee.address_changed"))
        assert change.details["approved_by"] == "li.wei" and change.tool == "employee.apply_change"
        assert "1 Jinke Road" not in str(change.details)  # ids and field names, not personal values
        model_calls = s.scalars(select(AuditEntry).where(AuditEntry.action == "model.call")).all()
        assert len(model_calls) == 1 and model_calls[0].details["egress"] is False
        assert model_calls[0].request_id == sub.request_id  # linked to the request it served
        assert audit.verify_chain(s) == []

    # The inbox empties; deciding again is refused because the request is closed.
    for _ in range(50):
        if not await svc.inbox(client, svc.principal("li.wei")):
            break
        await asyncio.sleep(0.1)
    assert await svc.inbox(client, svc.principal("li.wei")) == []
    with pytest.raises(svc.RequestError, match="closed"):
        await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)


async def test_refusals_are_clear_and_change_nothing(temporal_env, main_worker, company):
    client = temporal_env.client
    with pytest.raises(svc.RequestError, match="no employee E9999"):
        await _submit(client, employee="E9999")
    with pytest.raises(ValueError, match="must not be empty"):
        PostalAddress(line1="  ", city="Shanghai", country="CN")
    with pytest.raises(svc.RequestError, match="not active"):
        await _submit(client, employee="E1004")
    with pytest.raises(svc.RequestError, match="only for themselves"):
        await _submit(client, who="li.wei", employee="E1003")
    with pytest.raises(svc.RequestError, match="unknown user"):
        svc.principal("nobody")

    sub = await _submit(client)
    await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    with pytest.raises(
        svc.RequestError, match="wang.fang may not decide the manager step of REQ-1; approver: li.wei"
    ):
        await svc.decide(client, sub.request_id, svc.principal("wang.fang"), Verdict.APPROVE)
    with pytest.raises(svc.RequestError, match="needs a reason"):
        await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.REJECT, "  ")
    with pytest.raises(svc.RequestError, match="no request REQ-77"):
        await svc.decide(client, "REQ-77", svc.principal("li.wei"), Verdict.APPROVE)
    with pytest.raises(svc.RequestError, match="not a request id"):
        await svc.decide(client, "approve-it", svc.principal("li.wei"), Verdict.APPROVE)

    # Same request again: the pending one comes back; a different one is refused.
    again = await _submit(client)
    assert (again.request_id, again.created) == (sub.request_id, False)
    other = NEW_HOME.model_copy(update={"line1": "2 Jinke Road"})
    with pytest.raises(svc.RequestError, match="already has a pending address change REQ-1"):
        await _submit(client, address=other)

    await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.REJECT, "wrong building number")
    state = await svc.wait_for_stage(client, sub.request_id, {"rejected"})
    assert state.approval.decisions[0].reason == "wrong building number"
    with pytest.raises(svc.RequestError, match="closed"):
        await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)
    with session_scope(company) as s:
        assert s.scalar(select(EmployeeAddress).where(EmployeeAddress.request_id == sub.request_id)) is None
        # The audit trail names the rejection (`hrops audit trail` and the metrics read this action).
        assert (
            s.scalar(
                select(AuditEntry.actor).where(
                    AuditEntry.request_id == sub.request_id, AuditEntry.action == "request.rejected"
                )
            )
            == "li.wei"
        )


async def test_two_different_changes_at_once_one_wins_one_is_refused(temporal_env, main_worker, company):
    client = temporal_env.client
    other = NEW_HOME.model_copy(update={"line1": "500 Nanjing Road"})
    results = await asyncio.gather(
        _submit(client, who="wang.fang"), _submit(client, address=other), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, svc.Submitted)]
    refused = [r for r in results if isinstance(r, svc.RequestError)]
    assert len(created) == 1 and created[0].created and len(refused) == 1, results
    assert "already has a pending address change REQ-" in str(refused[0])


async def test_a_refusal_after_start_closes_the_request_and_says_why(temporal_env, main_worker, company):
    """Amy, the only HR ops user, asks to change the CEO's address: nobody else can approve it."""

    from tools.hr.changes import RecordChange
    from tools.store.models import Role
    from workflows import search_attributes as sa
    from workflows import task_queues
    from workflows.record_change.messages import ChangeRequest, Stage
    from workflows.record_change.workflow import RecordChangeWorkflow

    with pytest.raises(
        svc.RequestError, match="no manager who can approve"
    ):  # the CLI/API path refuses first
        await _submit(client := temporal_env.client, employee="E1001")
    request = ChangeRequest(
        request_id="REQ-9",
        change=RecordChange(
            employee_id="E1001", details={"kind": "address_change", "address": NEW_HOME}, effective_on=TODAY
        ),
        requested_by="amy.hughes",
        requester_roles=frozenset({Role.HR_OPS}),
    )
    handle = await client.start_workflow(
        RecordChangeWorkflow.run, request, id="record-change-E1001-address", task_queue=task_queues.MAIN
    )
    state = await handle.result()
    assert state.stage is Stage.INVALID and "no manager who can approve" in state.problems[0]
    for _ in range(50):
        if (await handle.describe()).typed_search_attributes.get(sa.STAGE) == "invalid":
            break
        await asyncio.sleep(0.1)
    assert (await handle.describe()).typed_search_attributes.get(sa.STAGE) == "invalid"
    with session_scope(company) as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == "REQ-9")).all()
    assert actions == ["request.submitted", "request.invalid"]


async def test_deciding_without_a_worker_says_so_instead_of_hanging(temporal_env, company, monkeypatch):
    from workflows import task_queues
    from workflows.worker import build_worker

    client = temporal_env.client
    async with build_worker(client, task_queues.MAIN):
        sub = await _submit(client)
        await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    monkeypatch.setattr(svc, "QUERY_TIMEOUT", 1.0)
    with pytest.raises(svc.RequestError, match="no worker answered for REQ-1"):
        await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)
    from tests.conftest import terminate_running

    await terminate_running(client)
