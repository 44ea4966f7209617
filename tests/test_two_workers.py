"""Scale-out: two `hrops worker` processes on the same task queue share one bulk change; one is
SIGKILLed mid-batch and the other finishes it, every row applied once. Runs on SQLite and, when a
server answers, on Postgres: the production topology without containers."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from temporalio.service import RPCError, RPCStatusCode

from hrops import bulk_service as bulk
from hrops import request_service as svc
from tests.conftest import terminate_running
from tests.legacy_fixtures import active_employees
from tests.test_faults import _auto_approve_job_titles, _count, _until
from tests.test_worker_kill import _kill, _worker
from tools.store.db import session_scope
from tools.store.models import AuditEntry, JobAssignment, Notification

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
    book = Workbook()
    book.active.append(["employee_id", "change", "title"])
    for eid in ids:
        book.active.append([eid, "job_title", f"Scale Out Lead {eid}"])
    book.save(tmp_path / "titles.xlsx")
    with session_scope(demo) as s:
        jobs_before = s.scalar(select(func.count()).select_from(JobAssignment)) or 0

    client = temporal_env.client
    workers = [_worker(temporal_env), _worker(temporal_env)]
    try:
        report = await bulk.validate(client, svc.principal("admin"), tmp_path / "titles.xlsx")
        assert report.ok, [r.problems for r in report.rows if not r.ok]
        sub = await bulk.submit(client, svc.principal("admin"), report)
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
    assert [r.stage for r in done.rows] == ["completed"] * ROWS, [r.problems for r in done.rows]
    children = [r.request_id for r in done.rows]
    by = await _identities(client, [sub.workflow_id, *(r.workflow_id for r in done.rows)])
    assert mine <= by  # both processes did part of the work
    with session_scope(demo) as s:
        assert s.scalar(select(func.count()).select_from(JobAssignment)) == jobs_before + ROWS
        titles = Counter(
            s.scalars(select(JobAssignment.employee_id).where(JobAssignment.title.like("Scale Out Lead %")))
        )
        applied = Counter(
            s.scalars(select(AuditEntry.request_id).where(AuditEntry.request_id.in_(children), *APPLIED))
        )
        told = Counter(
            s.execute(
                select(Notification.request_id, Notification.recipient).where(
                    Notification.request_id.in_(children), Notification.kind == "change_applied"
                )
            ).all()
        )
    assert titles == Counter(ids)  # one new job row per person
    assert applied == Counter(children)  # audited once
    assert {rid for rid, _ in told} == set(children) and set(told.values()) == {1}  # each told once
