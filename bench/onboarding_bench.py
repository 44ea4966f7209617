"""Onboarding throughput on the embedded stack vs the orchestration floor.

N onboardings with auto-approval rules (the offer and the plan approve without people), starting
today so no day-1 timer waits: check, records, account, equipment, plan written by the offline
onboarding agent, enrolments, welcome, readiness, each step a Temporal activity against SQLite.
The floor is a bare Temporal workflow that runs the same number of no-op activities, one after the
other, on the same dev server and worker settings: what orchestration alone costs.

    .venv/bin/python bench/onboarding_bench.py --count 500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from temporalio.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from floor_workflow import TASK_QUEUE, BenchFloor, noop  # noqa: E402

console = Console(width=140)
TODAY = date(2026, 11, 23)
CONCURRENCY = 100  # requests in flight at once, as a busy HR team plus a bulk import would make


def _setup(workdir: Path) -> str:
    os.environ["HROPS_VAR_DIR"] = str(workdir / "var")
    os.environ["HROPS_TODAY"] = TODAY.isoformat()
    os.environ["HROPS_LEGACY_SYNC"] = "[]"  # the legacy push is measured by legacy_bench.py
    from tools.approvals import rules

    text = rules.SHIPPED.read_text()
    for name in ("onboarding", "onboarding_plan"):
        text = text.replace(
            f"when: {{change: {name}}}\n    chain: [hr_ops]", f"when: {{change: {name}}}\n    chain: []"
        )
        text = text.replace(
            f"when: {{change: {name}}}\n    chain: [manager]", f"when: {{change: {name}}}\n    chain: []"
        )
    (workdir / "rules.yaml").write_text(text)
    os.environ["HROPS_APPROVAL_RULES"] = str(workdir / "rules.yaml")
    from hrops.settings import reset_settings

    reset_settings()
    from tools.demo_company import SeedOptions, seed_store

    url = f"sqlite:///{workdir / 'var' / 'hrops.db'}"
    seed_store(url, SeedOptions(employees=300, seed=7, learning_per_employee=1, as_of=TODAY))
    return url


def _offers(url: str, n: int) -> list:
    """N offers into teams whose heads have accounts, at the team's location and band."""
    from sqlalchemy import select

    from tools.onboarding.schemas import NewHire
    from tools.store import queries
    from tools.store.db import session_scope
    from tools.store.models import JobAssignment, OrgUnit, PayBand

    with session_scope(url) as s:
        teams = []
        for unit in s.scalars(select(OrgUnit).where(OrgUnit.kind == "team").order_by(OrgUnit.code)):
            job = (
                queries.current(s, JobAssignment, unit.head_employee_id, TODAY)
                if unit.head_employee_id
                else None
            )
            band = job and s.scalar(
                select(PayBand).where(PayBand.level == "L3", PayBand.location == job.location)
            )
            if band:
                teams.append((unit.code, unit.head_employee_id, job.location, band.currency, band.mid_amount))
    return [
        NewHire(
            given_name=f"Bench{i:04d}",
            family_name="Hire",
            title="Analyst",
            org_unit=teams[i % len(teams)][0],
            manager_id=teams[i % len(teams)][1],
            location=teams[i % len(teams)][2],
            currency=teams[i % len(teams)][3],
            amount=teams[i % len(teams)][4],
            start_date=TODAY,
        )
        for i in range(n)
    ]


async def _run_onboardings(
    client: Client, offers: list, bar: Progress, request_prefix: str = "REQ", label: str = "onboardings"
) -> tuple[float, list[float], int]:
    """Wall seconds, each onboarding's seconds (Temporal's start to close) and the activities of one;
    bench/scale_bench.py runs it too."""
    from hrops import request_service as svc
    from workflows import task_queues
    from workflows.onboarding.messages import OnboardingRequest, workflow_id_for
    from workflows.onboarding.workflow import OnboardingWorkflow

    admin = svc.principal("admin")
    task = bar.add_task(label, total=len(offers))
    started = time.perf_counter()
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int, offer) -> float:  # noqa: ANN001
        async with sem:
            handle = await client.start_workflow(
                OnboardingWorkflow.run,
                OnboardingRequest(
                    request_id=f"{request_prefix}-{i + 1}",
                    hire=offer,
                    requested_by=admin.username,
                    requester_roles=admin.roles,
                ),
                id=workflow_id_for(offer),
                task_queue=task_queues.MAIN,
            )
            state = await handle.result()
            if state.stage != "completed":
                raise RuntimeError(f"onboarding {handle.id} ended {state.stage}: {state.problems}")
            bar.advance(task)
            d = await handle.describe()
            return (d.close_time - d.start_time).total_seconds()

    durations = await asyncio.gather(*(one(i, o) for i, o in enumerate(offers)))
    wall = time.perf_counter() - started
    first = client.get_workflow_handle(workflow_id_for(offers[0]))
    history = await first.fetch_history()
    activities = sum(1 for e in history.events if e.HasField("activity_task_scheduled_event_attributes"))
    return wall, list(durations), activities


async def _run_floor(client: Client, n: int, activities: int, bar: Progress) -> tuple[float, list[float]]:
    task = bar.add_task(f"floor ({activities} no-op activities each)", total=n)
    started = time.perf_counter()
    sem = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> float:
        async with sem:
            handle = await client.start_workflow(
                BenchFloor.run, activities, id=f"floor-{i}", task_queue=TASK_QUEUE
            )
            await handle.result()
            bar.advance(task)
            d = await handle.describe()
            return (d.close_time - d.start_time).total_seconds()

    durations = await asyncio.gather(*(one(i) for i in range(n)))
    return time.perf_counter() - started, list(durations)


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def main(count: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from hrops.settings import Settings
    from workflows import search_attributes, task_queues
    from workflows.worker import build_worker

    with tempfile.TemporaryDirectory() as tmp:
        with console.status("seeding a 300-employee company"):
            url = _setup(Path(tmp))
        offers = _offers(url, count)
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(Settings().temporal_cli()),
            search_attributes=search_attributes.ALL,
            plugins=[PydanticAIPlugin()],
            dev_server_log_level="error",
        )
        try:
            floor_worker = Worker(
                env.client,
                task_queue=TASK_QUEUE,
                workflows=[BenchFloor],
                activities=[noop],
                activity_executor=ThreadPoolExecutor(16),
            )
            cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            async with build_worker(env.client, task_queues.MAIN), floor_worker:
                with Progress(*cols, console=console) as bar:
                    wall, durations, activities = await _run_onboardings(env.client, offers, bar)
                    floor_wall, floor_durations = await _run_floor(env.client, count, activities, bar)
        finally:
            await env.shutdown()
    table = Table("run", "workflows", "activities each", "wall s", "per second", "p50 s", "p95 s", "vs floor")
    for name, w, d in (
        ("onboarding (auto-approved)", wall, durations),
        ("bare Temporal floor", floor_wall, floor_durations),
    ):
        table.add_row(
            name,
            str(count),
            str(activities),
            f"{w:.1f}",
            f"{count / w:.1f}",
            f"{_p(d, 50):.2f}",
            f"{_p(d, 95):.2f}",
            f"{w / floor_wall:.2f}x",
        )
    console.print(table)
    console.print(
        f"{CONCURRENCY} in flight at once; one worker process (hrops-main), SQLite store, dev server"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    asyncio.run(main(parser.parse_args().count))
