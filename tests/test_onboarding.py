"""Onboarding end to end on a real Temporal dev server: offer approval with a correction, records,
account (with a username collision), equipment, the agent's plan approved by the manager,
enrolments, welcome, readiness; withdrawal at each stage undoes what was done; bad offers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hrops import onboarding_service as onb
from hrops import request_service as svc
from tests.conftest import TODAY, state_when
from tools.onboarding.schemas import NewHire
from tools.store.db import session_scope
from tools.store.models import (
    AuditEntry,
    Compensation,
    Course,
    Employee,
    EquipmentRequest,
    LearningRecord,
    Notification,
    RequestRecord,
    User,
)
from workflows.approvals import Verdict

# The main flows on each store: Postgres is the production store (skipped, saying so, without a server).
pytestmark = pytest.mark.both_stores

START = TODAY + timedelta(days=14)
OFFER = dict(
    given_name="Lei",
    family_name="Zhang",
    local_name="张磊",
    title="Data Engineer",
    org_unit="ENG-PLAT",
    manager_id="E1002",
    location="Shanghai",
    level="L5",
    start_date=START,
    amount="280000",
    currency="CNY",
)


@pytest.fixture
def catalogue(company: str) -> str:
    with session_scope(company, write=True) as s:
        s.add_all(
            [
                Course(
                    id="C-COC-100",
                    title="Code of Conduct",
                    category="compliance",
                    hours=1,
                    mandatory=True,
                    delivery="online",
                ),
                Course(
                    id="C-TEC-205",
                    title="SQL Fundamentals",
                    category="technical",
                    hours=8,
                    mandatory=False,
                    delivery="online",
                ),
                Course(
                    id="C-LAN-101",
                    title="Business English I",
                    category="language",
                    hours=20,
                    mandatory=False,
                    delivery="blended",
                ),
            ]
        )
    return company


async def _until(client, request_id: str, stages: set[str]):
    return await svc.wait_for_stage(client, request_id, stages, timeout=30)


async def _start(client, **changes) -> onb.OnboardingSubmitted:
    return await onb.submit_onboarding(client, svc.principal("admin"), NewHire(**{**OFFER, **changes}))


async def test_an_offer_becomes_a_ready_first_day_and_a_withdrawal_undoes_it(
    temporal_env, main_worker, catalogue
):
    client = temporal_env.client
    with session_scope(catalogue, write=True) as s:
        s.add(User(username="lei.zhang", display_name="Someone else"))  # the first choice is taken
    sub = await _start(client)
    again = await _start(client)
    assert sub.created and (again.created, again.request_id) == (False, sub.request_id)

    state = await _until(client, sub.request_id, {"awaiting_approval"})
    assert [s.usernames for s in state.approval.steps] == [["amy.hughes"]]  # the onboarding rule: HR ops
    # The hiring manager is not in the offer's chain, so it is not theirs to see (as GET /api/requests says).
    with pytest.raises(svc.RequestError, match="may not decide|that you may see"):
        await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)
    with pytest.raises(svc.RequestError, match="greater than 0"):
        await svc.decide(
            client,
            sub.request_id,
            svc.principal("amy.hughes"),
            Verdict.APPROVE_WITH_EDITS,
            edits={"amount": "-1"},
        )
    await svc.decide(
        client,
        sub.request_id,
        svc.principal("amy.hughes"),
        Verdict.APPROVE_WITH_EDITS,
        edits={"amount": "290000"},
    )

    state = await _until(client, sub.request_id, {"awaiting_plan_approval"})
    eid = state.employee_id
    assert state.corrected.amount == Decimal("290000") and state.hire.amount == Decimal("280000")
    assert (state.account.username, state.account.email, state.account.collision) == (
        "lei.zhang2",
        "lei.zhang2@acme.example",
        True,
    )
    assert state.equipment.items == ["laptop (developer)", "2 monitors", "headset"]
    assert state.plan.buddy_id == "E1003" and state.plan.courses == ["C-COC-100", "C-TEC-205", "C-LAN-101"]
    assert state.approval.steps[0].usernames == ["li.wei"]  # the manager approves the plan
    await svc.decide(
        client,
        sub.request_id,
        svc.principal("li.wei"),
        Verdict.APPROVE_WITH_EDITS,
        edits={"courses": "C-TEC-205; C-BOGUS-1"},
    )

    state = await _until(client, sub.request_id, {"ready"})
    # The mandatory course stays and an unknown one is dropped, whatever the edit said.
    assert state.enrolled == ["C-COC-100", "C-TEC-205"] and any("C-BOGUS-1" in e.text for e in state.history)
    report = await onb.readiness(client, sub.request_id)
    assert report.ready and report.summary() == "8/8 ready"
    with session_scope(catalogue) as s:
        hire = s.get(Employee, eid)
        assert (hire.display_name, hire.hire_date, hire.work_email) == (
            "张磊",
            START,
            "lei.zhang2@acme.example",
        )
        pay = s.scalar(select(Compensation).where(Compensation.employee_id == eid))
        assert (pay.base_amount, pay.valid_from) == (Decimal("290000.00"), START)
        assert (
            s.scalar(
                select(func.count()).select_from(LearningRecord).where(LearningRecord.employee_id == eid)
            )
            == 2
        )
        welcome = s.scalar(select(Notification).where(Notification.kind == "welcome"))
        assert welcome.recipient == "lei.zhang2" and "欢迎" in welcome.body

    assert (
        await svc.cancel(client, sub.request_id, svc.principal("amy.hughes"), "candidate declined") == "ready"
    )
    state = await _until(client, sub.request_id, {"cancelled"})
    assert state.undone == [
        "enrolments: 2 undone",
        "equipment: 1 undone",
        "account: 1 undone",
        "records: 1 undone",
    ]
    with session_scope(catalogue) as s:
        withdrawn = s.get(Employee, eid)
        assert (withdrawn.termination_date, withdrawn.leaver_reason) == (START, "offer_withdrawn")
        assert not s.get(User, "lei.zhang2").active
        assert s.scalar(select(EquipmentRequest.status)) == "cancelled"
        assert set(s.scalars(select(LearningRecord.status).where(LearningRecord.employee_id == eid))) == {
            "withdrawn"
        }
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == sub.request_id)))
    assert {
        "employee.hired",
        "account.created",
        "equipment.requested",
        "learning.enrolled",
        "request.cancelled",
        "onboarding.enrolments_undone",
        "onboarding.equipment_undone",
        "onboarding.account_undone",
        "onboarding.records_undone",
    } <= actions


async def test_withdrawn_before_approval_nothing_exists_and_during_the_plan_everything_is_undone(
    temporal_env, main_worker, catalogue
):
    client = temporal_env.client
    first = await _start(client)
    await _until(client, first.request_id, {"awaiting_approval"})
    await svc.cancel(client, first.request_id, svc.principal("admin"), "position frozen")
    state = await _until(client, first.request_id, {"cancelled"})
    assert state.employee_id is None and state.undone == []
    with session_scope(catalogue) as s:
        assert s.scalar(select(func.count()).select_from(Employee)) == 5

    second = await _start(client, given_name="Min", family_name="Liu", local_name="刘敏")
    await _until(client, second.request_id, {"awaiting_approval"})
    await svc.decide(client, second.request_id, svc.principal("amy.hughes"), Verdict.APPROVE)
    await _until(client, second.request_id, {"awaiting_plan_approval"})
    await svc.cancel(client, second.request_id, svc.principal("admin"), "offer withdrawn")
    state = await _until(client, second.request_id, {"cancelled"})
    assert state.undone == ["equipment: 1 undone", "account: 1 undone", "records: 1 undone"]
    assert (await onb.readiness(client, second.request_id)).items[0].status == "undone"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"start_date": TODAY - timedelta(days=1)}, "is in the past"),
        ({"org_unit": "ENG-NOPE"}, "no department ENG-NOPE"),
        ({"manager_id": "E9999"}, "no employee E9999 to be the manager"),
        ({"manager_id": "E1004"}, "is not employed"),
    ],
)
async def test_a_bad_offer_is_refused_before_anything_starts(temporal_env, catalogue, changes, message):
    with pytest.raises(svc.RequestError, match=message):
        await _start(temporal_env.client, **changes)
    with session_scope(catalogue) as s:
        assert s.scalar(select(func.count()).select_from(RequestRecord)) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "-1"}, "greater than 0"),
        ({"currency": "RMB"}, "not a currency"),
        ({"given_name": " "}, "must not be empty"),
    ],
)
def test_a_malformed_offer_fails_validation(changes, message) -> None:
    with pytest.raises(ValueError, match=message):
        NewHire(**{**OFFER, **changes})


def test_the_cli_refuses_30_february(catalogue) -> None:
    from typer.testing import CliRunner

    from hrops.cli import app

    args = ["onboard", "--given", "Lei", "--family", "Zhang", "--title", "x", "--department", "ENG-PLAT"]
    args += [
        "--manager",
        "E1002",
        "--location",
        "Shanghai",
        "--start",
        "2027-02-30",
        "--amount",
        "1",
        "--currency",
        "CNY",
    ]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 1 and "is not a date" in str(out.exception)


async def test_day_one_comes_on_a_durable_timer_and_the_readiness_report_goes_out(
    manual_clock_env, catalogue
):
    from workflows import task_queues
    from workflows.approvals import Decision
    from workflows.onboarding.messages import OnboardingRequest, Stage
    from workflows.onboarding.workflow import OnboardingWorkflow
    from workflows.worker import build_worker

    env = manual_clock_env
    request = OnboardingRequest(
        request_id="REQ-1", hire=NewHire(**OFFER), requested_by="admin", requester_roles=frozenset({"admin"})
    )
    async with build_worker(env.client, task_queues.MAIN):
        handle = await env.client.start_workflow(
            OnboardingWorkflow.run, request, id="onboarding-day-one", task_queue=task_queues.MAIN
        )
        for approver, stage in (
            ("amy.hughes", Stage.AWAITING_APPROVAL),
            ("li.wei", Stage.AWAITING_PLAN_APPROVAL),
        ):
            await state_when(handle, OnboardingWorkflow.state, lambda s, st=stage: s.stage is st)
            await handle.execute_update(
                OnboardingWorkflow.decide,
                Decision(request_id="REQ-1", approver=approver, verdict=Verdict.APPROVE),
            )
        await state_when(handle, OnboardingWorkflow.state, lambda s: s.stage is Stage.READY)
        await env.fast_forward(handle, timedelta(days=15))
        final = await handle.result()
    assert final.stage is Stage.COMPLETED and final.readiness.ready
    assert final.readiness.as_of.date() - final.requested_at.date() >= timedelta(days=14)
    with session_scope(catalogue) as s:
        told = set(s.scalars(select(Notification.recipient).where(Notification.kind == "day1_readiness")))
    assert told == {"admin", "li.wei"}


async def test_an_offer_withdrawn_while_its_legacy_entry_waits_for_a_person(
    legacy_workers, sim, demo, monkeypatch
):
    """Withdrawn during provisioning: the legacy push (stuck on a missing birth date) is cancelled
    before it enters anything, and the records, account and equipment request are undone."""
    from hrops.cli.demo_processes import _team_in
    from hrops.settings import reset_settings
    from workflows.legacy_sync.messages import LegacySyncState

    monkeypatch.setenv("HROPS_LEGACY_SYNC", '["classic_hris"]')
    reset_settings()
    client = legacy_workers
    code, head, city, currency, amount = _team_in(demo, ("Shanghai", "Beijing", "Shenzhen"), TODAY, set())
    offer = {
        **OFFER,
        "org_unit": code,
        "manager_id": head,
        "location": city,
        "currency": currency,
        "amount": amount,
    }
    sub = await onb.submit_onboarding(client, svc.principal("admin"), NewHire(**offer))
    state = await _until(client, sub.request_id, {"awaiting_approval"})
    await svc.decide(
        client, sub.request_id, svc.principal(state.approval.pending_usernames[0]), Verdict.APPROVE
    )
    state = await svc.wait_for_stage(client, sub.request_id, {"provisioning"})
    for _ in range(300):
        state = await svc.show(client, sub.request_id)
        if state.legacy:
            push = await client.get_workflow_handle(state.legacy[0].workflow_id).query(
                "state", result_type=LegacySyncState
            )
            if push.stage == "needs_attention":
                break
        await asyncio.sleep(0.1)
    assert push.task is not None and "birth_date" in push.task.message
    await svc.cancel(client, sub.request_id, svc.principal("admin"), "candidate declined")
    state = await _until(client, sub.request_id, {"cancelled"})
    assert state.undone[0].startswith("legacy push legacy-classic_hris-new_hire-") and state.undone[
        0
    ].endswith("cancelled")
    assert [u.split(":")[0] for u in state.undone[1:]] == ["equipment", "account", "records"]
    described = await client.get_workflow_handle(state.legacy[0].workflow_id).describe()
    assert described.status.name == "CANCELED" and sim.rows() == []
