"""Determinism: recorded histories of the request workflows replay on the current code without a
nondeterminism error. The histories in tests/histories/ were recorded from real runs (a record
change with its undo, an onboarding to its readiness, an onboarding withdrawn); a change that
would break running workflows fails here. `RECORD_HISTORIES=1` records them again."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from hrops import onboarding_service as onb
from hrops import request_service as svc
from tests.test_onboarding import OFFER, catalogue  # noqa: F401  (fixture)
from tools.hr.changes import RecordChange
from tools.onboarding.schemas import NewHire
from workflows.approvals import Verdict
from workflows.bulk_change.workflow import BulkChangeWorkflow
from workflows.onboarding.workflow import OnboardingWorkflow
from workflows.record_change.messages import ChangeRequest, RequestState
from workflows.record_change.workflow import RecordChangeWorkflow

HISTORIES = Path(__file__).with_name("histories")
WORKFLOWS = [RecordChangeWorkflow, OnboardingWorkflow, BulkChangeWorkflow]


def _replayer() -> Replayer:
    return Replayer(workflows=WORKFLOWS, plugins=[PydanticAIPlugin()])


async def _approve(client, request_id: str, until: set[str]):  # noqa: ANN001, ANN202
    """Each waiting approver approves in turn."""
    while True:
        state = await svc.wait_for_stage(
            client, request_id, {"awaiting_approval", "awaiting_plan_approval", *until}
        )
        if state.stage in until:
            return state
        if pending := state.approval.pending_usernames:  # empty for a moment between steps
            await svc.decide(client, request_id, svc.principal(pending[0]), Verdict.APPROVE)
        else:
            await asyncio.sleep(0.1)


async def _live_histories(client) -> dict[str, WorkflowHistory]:  # noqa: ANN001
    """Run the processes for real and fetch their histories."""
    admin = svc.principal("admin")
    out = {}
    change = await svc.submit_change(
        client,
        admin,
        RecordChange.model_validate(
            {
                "employee_id": "E1003",
                "details": {"kind": "transfer", "org_unit": "ENG-DATA"},
                "effective_on": "2026-11-23",
            }
        ),
    )
    await _approve(client, change.request_id, {"completed"})
    undo = await svc.undo(client, change.request_id, admin)
    await _approve(client, undo.request_id, {"completed"})
    hired = await onb.submit_onboarding(client, admin, NewHire(**OFFER))
    await _approve(client, hired.request_id, {"ready"})
    await svc.cancel(client, hired.request_id, admin, "offer withdrawn")
    await svc.wait_for_stage(client, hired.request_id, {"cancelled"})
    for name, rid in (
        ("transfer", change.request_id),
        ("undo", undo.request_id),
        ("onboarding", hired.request_id),
    ):
        row = svc.record_of(rid)
        handle = client.get_workflow_handle(row.workflow_id, run_id=row.run_id)
        out[name] = await handle.fetch_history()
    return out


async def test_live_histories_replay_and_recorded_ones_still_do(temporal_env, main_worker, catalogue):  # noqa: F811
    live = await _live_histories(temporal_env.client)
    for name, history in live.items():
        await _replayer().replay_workflow(history)  # raises on nondeterminism
        if os.environ.get("RECORD_HISTORIES"):
            HISTORIES.mkdir(exist_ok=True)
            (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))
    recorded = sorted(HISTORIES.glob("*.json"))
    assert {p.stem for p in recorded} >= {"transfer", "undo", "onboarding"}, "record them: RECORD_HISTORIES=1"
    for path in recorded:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        await _replayer().replay_workflow(history)


@workflow.defn(name="RecordChangeWorkflow", sandboxed=False)
class ChangedRecordChange(RecordChangeWorkflow):
    """The record-change workflow with one new step at the start, as a careless edit would add."""

    @workflow.run
    async def run(self, req: ChangeRequest) -> RequestState:
        await workflow.sleep(1)
        return await super().run(req)


async def test_a_changed_workflow_is_caught_by_replay() -> None:
    """The check itself works: the recorded transfer does not replay on a changed workflow."""
    path = HISTORIES / "transfer.json"
    history = WorkflowHistory.from_json("transfer", path.read_text())
    replayer = Replayer(workflows=[ChangedRecordChange], plugins=[PydanticAIPlugin()])
    with pytest.raises(NondeterminismError):
        await replayer.replay_workflow(history)
