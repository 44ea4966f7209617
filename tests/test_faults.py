"""The fault suite: the work completes after each fault, once, and nothing is lost.

Each case breaks something real while work is under way and checks the outcome against the HR
store (rows, audit entries, notifications, requests) and the stand-in legacy system's own storage:
a worker process killed (SIGKILL) in the middle of a bulk change and in the middle of typing
records into the legacy system; the Temporal dev server killed and started again on its database
file; the HR database locked by another process; the legacy system down and back on the same port
and storage. (A worker killed mid-onboarding: tests/test_worker_kill.py.)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from hrops import bulk_service as bulk
from hrops import legacy_service as legacy
from hrops import request_service as svc
from hrops.settings import Settings, reset_settings
from tests.conftest import TODAY, terminate_running
from tests.legacy_fixtures import DEFAULTS, SYSTEM, Sim, active_employees
from tests.test_worker_kill import _kill, _worker
from tools.approvals import rules
from tools.store.db import session_scope
from tools.store.models import AuditEntry, JobAssignment, LegacySubmission, Notification, RequestRecord
from workflows import search_attributes, task_queues
from workflows.approvals import Verdict
from workflows.legacy_sync.messages import Stage
from workflows.worker import build_worker


async def _until(predicate: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    """Poll `predicate` (cheap, local) until it holds; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        await asyncio.sleep(0.05)


def _count(url: str, model: type, *where) -> int:  # noqa: ANN002
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _auto_approve_job_titles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped rules with job titles approved by rule (`chain: []`), for this test's processes."""
    text = rules.SHIPPED.read_text().replace(
        "when: {change: job_title}\n    chain: [manager]", "when: {change: job_title}\n    chain: []"
    )
    assert "chain: []" in text
    (tmp_path / "rules.yaml").write_text(text)
    monkeypatch.setenv("HROPS_APPROVAL_RULES", str(tmp_path / "rules.yaml"))
    reset_settings()


# -- b. a worker killed in the middle of a bulk change ------------------------------------------

BULK_ROWS = 8


async def _submit_titles(client, url: str, tmp_path: Path, ids: list[str], title: str):  # noqa: ANN001, ANN202
    """A bulk sheet giving each of `ids` the job title `{title} {id}`, validated and submitted as
    admin; also how many job rows the store held before (tests/test_two_workers.py uses it too)."""
    book = Workbook()
    book.active.append(["employee_id", "change", "title"])
    for eid in ids:
        book.active.append([eid, "job_title", f"{title} {eid}"])
    book.save(tmp_path / "titles.xlsx")
    with session_scope(url) as s:
        jobs_before = s.scalar(select(func.count()).select_from(JobAssignment)) or 0
    report = await bulk.validate(client, svc.principal("admin"), tmp_path / "titles.xlsx")
    assert report.ok, [r.problems for r in report.rows if not r.ok]
    return await bulk.submit(client, svc.principal("admin"), report), jobs_before


def _each_title_applied_once(url: str, done, ids: list[str], title: str, jobs_before: int) -> None:  # noqa: ANN001
    """Every row completed with one request, one new job row, one audit entry each, and every
    person told once (the requester among them)."""
    assert [r.stage for r in done.rows] == ["completed"] * len(ids), [r.problems for r in done.rows]
    children = [r.request_id for r in done.rows]
    with session_scope(url) as s:
        # One request per row plus the batch; one new job row per employee, with the new title.
        assert s.scalar(select(func.count()).select_from(RequestRecord)) == len(ids) + 1
        assert s.scalar(select(func.count()).select_from(JobAssignment)) == jobs_before + len(ids)
        titles = Counter(
            s.scalars(select(JobAssignment.employee_id).where(JobAssignment.title.like(f"{title} %")))
        )
        assert titles == Counter(ids)
        actions = Counter(
            (a.request_id, a.action)
            for a in s.scalars(select(AuditEntry).where(AuditEntry.request_id.in_(children)))
        )
        told = Counter(
            (n.request_id, n.recipient)
            for n in s.scalars(select(Notification).where(Notification.kind == "change_applied"))
        )
    for rid in children:
        assert actions[(rid, "request.submitted")] == 1, rid
        assert actions[(rid, "employee.job_title_changed")] == 1, rid
        assert told[(rid, "admin")] == 1, rid  # the requester is told once
    assert max(told.values()) == 1


async def test_a_bulk_change_survives_its_worker_being_killed_while_rows_are_applied(
    temporal_env, demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _auto_approve_job_titles(tmp_path, monkeypatch)
    ids = active_employees(demo, BULK_ROWS)
    applied = (AuditEntry.action == "employee.job_title_changed",)

    client = temporal_env.client
    worker = _worker(temporal_env)  # `hrops worker` on the main queue, in its own process
    try:
        sub, jobs_before = await _submit_titles(client, demo, tmp_path, ids, "Fault Drill Lead")
        await _until(lambda: _count(demo, AuditEntry, *applied) >= 1, "a first row applied")
        applied_at_kill = _count(demo, AuditEntry, *applied)
        _kill(worker)
        worker = _worker(temporal_env)
        done = await svc.wait_for_stage(client, sub.request_id, {"completed"}, timeout=150)
    finally:
        _kill(worker)
        await terminate_running(client)  # after a failure: later tests reuse these workflow ids

    assert applied_at_kill < BULK_ROWS  # the kill came while rows were being applied
    _each_title_applied_once(demo, done, ids, "Fault Drill Lead", jobs_before)


# -- c. the RPA worker killed while it types records into the legacy system --------------------

RPA_RECORDS = 6


async def test_records_are_entered_once_after_the_rpa_worker_is_killed_mid_entry(
    temporal_env, demo: str, sim: Sim
) -> None:
    # The stand-in's own duplicate check is off: only the push's search and journal prevent doubles.
    # Final submits answer 1.5 s late (the stand-in saves even when nobody waits for the answer),
    # so the kill finds creates in flight.
    sim.configure(detect_duplicates=False, slow_on=["POST /newhire/confirm"], slow_rate=1.0, slow_seconds=1.5)
    ids = active_employees(demo, RPA_RECORDS)
    client = temporal_env.client
    async with build_worker(client, task_queues.MAIN):  # workflows here; browser work in the process
        rpa = _worker(temporal_env, task_queues.RPA)
        try:
            started = await legacy.start(
                client, SYSTEM, "new_hire", ids, svc.principal("admin"), evidence=False
            )
            unsettled = (LegacySubmission, LegacySubmission.settled_at.is_(None))
            # Killed while one record is in and another's final submit has no answer yet.
            await _until(
                lambda: len(sim.rows()) >= 1 and _count(demo, *unsettled) >= 1,
                "a record entered while another's create is in flight",
                timeout=120,
            )
            entered_at_kill = len(sim.rows())
            _kill(rpa)
            rpa = _worker(temporal_env, task_queues.RPA)
            # The dead worker's pushes time out on their heartbeats and start again on the new one.
            states = await legacy.settle_many(client, [s.workflow_id for s in started], timeout=180)
        finally:
            _kill(rpa)
            await terminate_running(client)

    assert entered_at_kill < RPA_RECORDS
    assert [s.stage for s in states] == [Stage.COMPLETED] * RPA_RECORDS, [s.history[-1].text for s in states]
    rows = sim.rows()
    assert Counter(r["empno"] for r in rows) == Counter(e[1:].rjust(6, "0") for e in ids)  # once each
    assert all(s.result is not None and len(s.result.verified) >= 15 for s in states)
    # Every create the dead worker left in doubt was settled by the push that took over.
    assert _count(demo, *unsettled) == 0


# -- f. the legacy system down for a while ---------------------------------------------------------

DOWN_RECORDS = 3


async def test_records_queued_while_the_legacy_system_is_down_are_entered_once_when_it_is_back(
    legacy_workers, demo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra.legacy_hris import SimProcess

    # A stand-in of this test's own, so it can be stopped and started again on its port and file.
    own = SimProcess(tmp_path / "legacy_down.db", seed=8)
    with own:
        pass  # created its storage; now it is down
    user, password = next(iter(own.users.items()))
    sim = Sim(url=own.url, db_path=own.db_path, username=user, password=password)
    monkeypatch.setenv("HROPS_LEGACY_URLS", json.dumps({SYSTEM: own.url}))
    reset_settings()
    ids = active_employees(demo, DOWN_RECORDS)
    client = legacy_workers
    started = await legacy.start(client, SYSTEM, "new_hire", ids, svc.principal("admin"), evidence=False)
    wids = [s.workflow_id for s in started]

    async def attempts() -> list[int]:
        out = []
        for wid in wids:
            desc = await client.get_workflow_handle(wid).describe()
            out += [a.attempt for a in desc.raw_description.pending_activities]
        return out

    # Down long enough for every push to fail twice (each try is eight attempts by the engine).
    deadline = time.monotonic() + 90
    while not ((seen := await attempts()) and len(seen) == DOWN_RECORDS and min(seen) >= 3):
        assert time.monotonic() < deadline, f"the pushes did not retry: attempts {seen}"
        await asyncio.sleep(0.2)
    with own:  # back on the same port, with the same storage
        sim.configure(**DEFAULTS)
        states = await legacy.settle_many(client, wids, timeout=120)
        rows = sim.rows()
    assert [s.stage for s in states] == [Stage.COMPLETED] * DOWN_RECORDS, [s.history[-1].text for s in states]
    assert Counter(r["empno"] for r in rows) == Counter(e[1:].rjust(6, "0") for e in ids)
    with session_scope(demo) as s:
        entered = Counter(
            s.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "legacy.entered"))
        )
    assert entered == Counter(ids)  # one audit entry per record, none for the failed tries


def _title_change_in_store(url: str, request_id: str) -> tuple[list[str], Counter, Counter]:
    """E1003's titles, the request's audit actions and who was told it was applied (and how often)."""
    with session_scope(url) as s:
        titles = list(s.scalars(select(JobAssignment.title).where(JobAssignment.employee_id == "E1003")))
        actions = Counter(s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == request_id)))
        told = Counter(
            s.scalars(
                select(Notification.recipient).where(
                    Notification.request_id == request_id, Notification.kind == "change_applied"
                )
            )
        )
    return titles, actions, told


# -- d. the Temporal server killed and started again -------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _serving(client) -> None:  # noqa: ANN001
    """Until the server answers again (the client reconnects by itself)."""
    from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

    deadline = time.monotonic() + 60
    while True:
        try:
            await client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=timedelta(seconds=2)
            )
            return
        except Exception:  # noqa: BLE001 - not up yet, whatever the reason
            assert time.monotonic() < deadline, "the Temporal server did not come back"
            await asyncio.sleep(0.1)


async def test_an_approval_after_the_temporal_server_restarts_completes_the_request_once(
    company: str, tmp_path: Path
) -> None:
    from hrops.temporal_client import connect
    from tools.hr.changes import RecordChange

    binary = Settings().temporal_cli()
    assert binary is not None
    port = _free_port()
    # A dev server of this test's own with a database file, as `hrops up` runs it.
    cmd = [
        str(binary),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--db-filename",
        str(tmp_path / "temporal.db"),
        "--headless",
        "--log-level",
        "error",
        *search_attributes.cli_flags(),
    ]

    def start() -> subprocess.Popen:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    server = start()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                client = await connect(target=f"127.0.0.1:{port}")
                break
            except Exception:  # noqa: BLE001
                assert time.monotonic() < deadline, "the Temporal dev server did not start"
                await asyncio.sleep(0.2)
        await _serving(client)
        change = RecordChange(
            employee_id="E1003",
            details={"kind": "job_title", "title": "Staff Data Engineer"},
            effective_on=TODAY,
        )
        async with build_worker(client, task_queues.MAIN):
            sub = await svc.submit_change(client, svc.principal("amy.hughes"), change)
            await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"}, timeout=60)
            server.send_signal(signal.SIGKILL)  # a crash, not a shutdown
            server.wait(timeout=10)
            server = start()  # the same port and database file; the worker and client stay as they are
            await _serving(client)
            await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)
            state = await svc.wait_for_stage(client, sub.request_id, {"completed"}, timeout=90)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    assert state.applied is not None
    titles, actions, told = _title_change_in_store(company, sub.request_id)
    assert titles == ["Data Engineer", "Staff Data Engineer"]
    assert actions["request.submitted"] == 1 and actions["employee.job_title_changed"] == 1, actions
    assert told and max(told.values()) == 1


# -- e. the HR database locked by another process for a while -----------------------------------


@pytest.mark.sqlite_only("the whole-file write lock and busy timeout are SQLite's")
async def test_a_locked_database_delays_the_work_which_then_completes_once(
    temporal_env, main_worker, company: str
) -> None:
    from temporalio.api.enums.v1 import EventType

    from hrops.api import auth
    from hrops.api.app import app
    from hrops.settings import get_settings
    from tools.hr.changes import RecordChange
    from tools.store.db import BUSY_TIMEOUT_S

    client = temporal_env.client
    change = RecordChange(
        employee_id="E1003", details={"kind": "job_title", "title": "Principal Engineer"}, effective_on=TODAY
    )
    sub = await svc.submit_change(client, svc.principal("amy.hughes"), change)
    await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"}, timeout=60)
    bearer = {"Authorization": f"Bearer {auth.issue(get_settings(), 'amy.hughes')}"}
    env = {**os.environ, "HROPS_TEMPORAL_ADDRESS": client.service_client.config.target_host}
    cli = [
        sys.executable,
        "-m",
        "hrops",
        "request",
        "job-title",
        "E1005",
        "--title",
        "Ops Lead",
        "--as",
        "amy.hughes",
    ]

    # Another process (here: another connection) holds the write lock, as a long import would,
    # until the API has given up waiting for it: longer than the busy timeout.
    locker = sqlite3.connect(make_url(company).database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    locked_at = time.monotonic()
    app.state.client = client
    try:
        await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)  # recorded at once
        by_cli = asyncio.create_task(
            asyncio.to_thread(subprocess.run, cli, env=env, capture_output=True, text=True)
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops") as api:
            seen = await api.get(f"/api/requests/{sub.request_id}", headers=bearer)
            assert seen.status_code == 200  # reading goes on under the lock (WAL)
            written = await api.post(
                "/api/requests/change",
                headers=bearer,
                json={"employee_id": "E1002", "details": {"kind": "job_title", "title": "VP Platform"}},
            )
        # ...and until a write of the workflow has failed on it and waits for Temporal's retry.
        handle = client.get_workflow_handle(sub.workflow_id)
        deadline = time.monotonic() + 3 * BUSY_TIMEOUT_S
        while not any(a.attempt >= 2 for a in (await handle.describe()).raw_description.pending_activities):
            assert time.monotonic() < deadline, "no write of the workflow waited for the lock"
            await asyncio.sleep(0.1)
        held = time.monotonic() - locked_at
    finally:
        locker.execute("ROLLBACK")
        locker.close()
        app.state.client = None
    cli_out = await by_cli

    assert held >= BUSY_TIMEOUT_S
    assert written.status_code == 503, written.text  # not a 500 quoting SQL
    assert "locked by another process" in written.json()["detail"] and "try again" in written.json()["detail"]
    # The CLI waited for the lock (or, had it waited too long, said so in one line): never a traceback.
    assert "Traceback" not in cli_out.stderr, cli_out.stderr
    assert (cli_out.returncode == 0 and "REQ-" in cli_out.stdout) or (
        cli_out.returncode == 1 and "locked by another process" in cli_out.stderr
    ), cli_out.stdout + cli_out.stderr

    state = await svc.wait_for_stage(client, sub.request_id, {"completed"}, timeout=90)
    assert state.applied is not None
    history = await client.get_workflow_handle(sub.workflow_id).fetch_history()
    attempts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert max(attempts) >= 2  # the write that failed on the lock was tried again, and went through
    titles, actions, told = _title_change_in_store(company, sub.request_id)
    assert titles == ["Data Engineer", "Principal Engineer"]
    assert actions["employee.job_title_changed"] == 1 and actions["request.approved"] == 1, actions
    assert told and max(told.values()) == 1
