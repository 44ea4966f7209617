"""A worker process killed (SIGKILL) in the middle of an onboarding and started again: the process
finishes and nothing is done twice. The worker runs as `hrops worker`, a real separate process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter

from sqlalchemy import func, select

from hrops import onboarding_service as onb
from hrops import request_service as svc
from tests.test_onboarding import OFFER, catalogue  # noqa: F401  (fixture)
from tools.onboarding.schemas import NewHire
from tools.store.db import session_scope
from tools.store.models import AuditEntry, Employee, EquipmentRequest, LearningRecord, Notification, User
from workflows import task_queues
from workflows.approvals import Verdict


def _worker(
    temporal_env, queue: str = task_queues.MAIN, env: dict[str, str] | None = None
) -> subprocess.Popen:  # noqa: ANN001
    """`hrops worker` for one task queue in its own process, with `env` on top of the test's
    (the fault, two-worker, redaction and injection tests use it too)."""
    target = temporal_env.client.service_client.config.target_host
    return subprocess.Popen(
        [sys.executable, "-m", "hrops", "worker", "--queue", queue],
        env={**os.environ, **(env or {}), "HROPS_TEMPORAL_ADDRESS": target},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


async def _decide_when_a_worker_answers(client, request_id: str, who: str) -> None:  # noqa: ANN001
    """Approve as a person would after a restart: a worker just started may not answer within the
    update's timeout on a loaded machine, so try again, and take "already approved by me" as done."""
    for _ in range(6):
        try:
            await svc.decide(client, request_id, svc.principal(who), Verdict.APPROVE)
            return
        except svc.RequestError as e:
            if f"already approved by {who}" in str(e):
                return
            if "no worker answered" not in str(e):
                raise
    raise AssertionError(f"no worker answered for {request_id} within a minute")


async def test_an_onboarding_survives_its_worker_being_killed_twice(temporal_env, catalogue):  # noqa: F811
    client = temporal_env.client
    worker = _worker(temporal_env)
    try:
        sub = await onb.submit_onboarding(client, svc.principal("admin"), NewHire(**OFFER))
        await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"}, timeout=60)
        await svc.decide(client, sub.request_id, svc.principal("amy.hughes"), Verdict.APPROVE)
        await asyncio.sleep(0.3)  # records, account and equipment are being written now
        _kill(worker)
        worker = _worker(temporal_env)
        # Work the dead worker held is retried when its timeouts pass; the tools find what was done.
        state = await svc.wait_for_stage(client, sub.request_id, {"awaiting_plan_approval"}, timeout=120)
        _kill(worker)  # and once more while the plan waits for the manager
        worker = _worker(temporal_env)
        await _decide_when_a_worker_answers(client, sub.request_id, "li.wei")
        state = await svc.wait_for_stage(client, sub.request_id, {"ready"}, timeout=120)
    finally:
        _kill(worker)
    eid = state.employee_id
    assert state.readiness is None and state.welcome_queued and len(state.enrolled) == 3
    with session_scope(catalogue) as s:
        assert s.scalar(select(func.count()).select_from(Employee).where(Employee.given_name == "Lei")) == 1
        assert s.scalar(select(func.count()).select_from(User).where(User.employee_id == eid)) == 1
        assert s.scalar(select(func.count()).select_from(EquipmentRequest)) == 1
        assert (
            s.scalar(
                select(func.count()).select_from(LearningRecord).where(LearningRecord.employee_id == eid)
            )
            == 3
        )
        assert (
            s.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "welcome"))
            == 1
        )
        actions = Counter(s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == sub.request_id)))
    for once in ("employee.hired", "account.created", "equipment.requested", "learning.enrolled"):
        assert actions[once] == 1, actions
