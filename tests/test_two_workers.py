"""Scale-out: two `hrops worker` processes on the same task queue share one bulk change; one is
SIGKILLed mid-batch and the other finishes it, every row applied once. Runs on SQLite and, when a
server answers, on Postgres: the production topology without containers."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from temporalio.service import RPCError, RPCStatusCode

from hrops import request_service as svc
from tests.conftest import terminate_running
from tests.legacy_fixtures import active_employees
from tests.test_faults import (
    _auto_approve_job_titles,
    _count,
    _each_title_applied_once,
    _submit_titles,
    _until,
)
from tests.test_worker_kill import _kill, _worker
from tools.store.models import AuditEntry

pytestmark = [pytest.mark.e2e, pytest.mark.both_stores]

ROWS = 16
APPLIED = (AuditEntry.action == "employee.job_title_changed",)


async def _identities(client, workflow_ids: list[str]) -> set[str]:  # noqa: ANN001
    """The workers that ran activities for these workflows (Temporal records who took each task)."""
    seen: set[str] = set()
    for wid in workflow_ids:
        try:
            async for e in client.get_workflow_handle(wid).fetch_history_events():
                if e.HasField("activity_task_started_event_attributes"):
                    seen.add(e.activity_task_started_event_attributes.identity)
        except RPCError as e:  # a row whose workflow the batch has not started yet
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
    return seen


async def test_two_workers_share_a_batch_and_one_killed_mid_batch_loses_and_repeats_nothing(
    temporal_env, demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _auto_approve_job_titles(tmp_path, monkeypatch)
    ids = active_employees(demo, ROWS)
    client = temporal_env.client
    workers = [_worker(temporal_env), _worker(temporal_env)]
    try:
        sub, jobs_before = await _submit_titles(client, demo, tmp_path, ids, "Scale Out Lead")
        await _until(lambda: _count(demo, AuditEntry, *APPLIED) >= 2, "the first rows applied")
        # Killed once both processes have taken work (on a loaded machine one may start slowly).
        mine = {f"{w.pid}@{socket.gethostname()}" for w in workers}
        state = await svc.show(client, sub.request_id)
        for _ in range(100):
            if mine <= await _identities(client, [r.workflow_id for r in state.rows]):
                break
            await asyncio.sleep(0.1)
        applied_at_kill = _count(demo, AuditEntry, *APPLIED)
        _kill(workers[0])
        done = await svc.wait_for_stage(client, sub.request_id, {"completed"}, timeout=180)
    finally:
        for w in workers:
            if w.poll() is None:
                _kill(w)
        await terminate_running(client)

    assert applied_at_kill < ROWS  # the kill came mid-batch
    by = await _identities(client, [sub.workflow_id, *(r.workflow_id for r in done.rows)])
    assert mine <= by  # both processes did part of the work
    _each_title_applied_once(demo, done, ids, "Scale Out Lead", jobs_before)
