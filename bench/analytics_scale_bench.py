"""Analytics at scale on SQLite and on Postgres: seeding, then the analytics_bench questions end to end
vs the hand-written SQL for each, interleaved, on the same store.

    .venv/bin/python bench/analytics_scale_bench.py --employees 100000 --learning 50 --rounds 5
    .venv/bin/python bench/analytics_scale_bench.py --stores postgres --employees 2000 --learning 24

Each store is seeded once (seed 5, as analytics_bench.py), through `tools.demo_company.seed_store`
as `hrops seed` does; the seeding time per phase is shown. Postgres: a database of its own on
HROPS_BENCH_DATABASE_URL (default postgres@127.0.0.1:5432), vacuumed and analysed after the load (as
autovacuum would have by the time anyone asks), dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from analytics_bench import CASES, _p, time_question  # noqa: E402
from bench_store import STORES, BenchSetupError, machine, store  # noqa: E402

console = Console(width=170)
TODAY = date(2026, 11, 23)
# The one hand-written query whose SQL differs by dialect (SQLite has no EXTRACT(QUARTER ...)).
POSTGRES_SQL = {
    "hires by quarter last year": """SELECT EXTRACT(QUARTER FROM hire_date) AS q, COUNT(*) FROM employees
           WHERE hire_date BETWEEN '2025-01-01' AND '2025-12-31' GROUP BY q""",
}


def _seed(url: str, employees: int, learning: float) -> tuple[float, dict[str, float], int, int]:
    """Seconds in all, seconds per phase, people and learning records."""
    from tools.demo_company import SeedOptions, seed_store

    phases: dict[str, float] = {}
    cols = (TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*cols, console=console) as bar:
        tasks: dict[str, object] = {}
        last = [time.perf_counter(), "migrate"]

        def tick(label: str, done: int, total: int) -> None:
            now = time.perf_counter()
            phases[last[1]] = phases.get(last[1], 0.0) + now - last[0]
            last[:] = [now, label]
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        started = time.perf_counter()
        report = seed_store(
            url,
            SeedOptions(employees=employees, seed=5, learning_per_employee=learning, as_of=TODAY),
            progress=tick,
        )
        tick("store meta and audit", 1, 1)
        phases.pop("store meta and audit", None)
        seconds = time.perf_counter() - started
    return seconds, phases, report.employees, report.learning_records


def _analyse(url: str) -> float:
    """Postgres: what autovacuum leaves soon after a bulk load (since Postgres 13 it vacuums
    insert-only tables too): planner statistics and the visibility map, without which the covering
    learning indexes cannot be read index-only (every row would be checked in the heap)."""
    from tools.store.db import engine_for

    engine = engine_for(url)
    if engine.dialect.name != "postgresql":
        return 0.0
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def _questions(url: str, rounds: int) -> list[tuple[str, float, float, float, float, float]]:
    from tools.store.db import engine_for

    postgres = engine_for(url).dialect.name == "postgresql"
    cases = [(q, POSTGRES_SQL.get(q, sql) if postgres else sql) for q, sql in CASES]
    ours: dict[str, list[float]] = {q: [] for q, _ in cases}
    ours_sql: dict[str, list[float]] = {q: [] for q, _ in cases}
    hand: dict[str, list[float]] = {q: [] for q, _ in cases}
    cols = (TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*cols, console=console) as bar:
        task = bar.add_task("questions (ours, its SQL alone, hand-written)", total=rounds * len(cases))
        for _ in range(rounds):  # interleaved, so machine noise hits both alike
            for question, sql in cases:
                o, o_sql, h = time_question(url, question, sql, date(2024, 12, 31))
                ours[question].append(o)
                ours_sql[question].append(o_sql)
                hand[question].append(h)
                bar.advance(task)
    return [
        (
            q,
            _p(ours[q], 50) * 1000,
            _p(ours[q], 95) * 1000,
            _p(ours_sql[q], 50) * 1000,
            _p(hand[q], 50) * 1000,
            _p(hand[q], 95) * 1000,
        )
        for q, _ in cases
    ]


def main(stores: list[str], employees: int, learning: float, rounds: int) -> None:
    os.environ["HROPS_TODAY"] = TODAY.isoformat()
    seeding = Table("store", "phase", "seconds", title="seeding")
    answers = Table(
        "store",
        "question",
        "ours p50 ms",
        "ours p95 ms",
        "of which SQL",
        "hand SQL p50 ms",
        "hand SQL p95 ms",
        "ratio",
        "goal: <= 1.2x + 20 ms",
        title=f"questions, {rounds} rounds",
    )
    for kind in stores:
        with tempfile.TemporaryDirectory() as tmp, store(kind, Path(tmp)) as url:
            os.environ["HROPS_VAR_DIR"] = str(Path(tmp) / "var")
            os.environ["HROPS_DATABASE_URL"] = url
            from hrops.settings import reset_settings

            reset_settings()
            console.print(f"{kind}: seeding {employees:,} employees, {learning:g} learning records each")
            seconds, phases, people, records = _seed(url, employees, learning)
            analysed = _analyse(url)
            console.print(f"{kind}: {people:,} people, {records:,} learning records in {seconds:.0f} s")
            for phase, s in phases.items():
                seeding.add_row(kind, phase, f"{s:.1f}")
            seeding.add_row(
                kind, f"[b]all ({people:,} people, {records:,} learning records)", f"[b]{seconds:.1f}"
            )
            if analysed:
                seeding.add_row(
                    kind, "VACUUM ANALYZE after the load (not part of seeding)", f"{analysed:.1f}"
                )
            for q, o50, o95, sql50, h50, h95 in _questions(url, rounds):
                goal = 1.2 * h50 + 20
                answers.add_row(
                    kind,
                    q,
                    f"{o50:.1f}",
                    f"{o95:.1f}",
                    f"{sql50:.1f}",
                    f"{h50:.1f}",
                    f"{h95:.1f}",
                    f"{o50 / h50:.2f}x",
                    "met" if o50 <= goal else f"missed ({goal:.0f} ms)",
                )
            from tools.store.db import engine_for

            engine_for(url).dispose()
    console.print(seeding)
    console.print(answers)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", default="sqlite,postgres", help=f"comma-separated: {', '.join(STORES)}")
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--learning", type=float, default=50, help="learning records per active employee")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    kinds = [k.strip() for k in args.stores.split(",") if k.strip()]
    if not kinds or set(kinds) - set(STORES):
        parser.error(f"--stores {args.stores!r}: give one or more of {', '.join(STORES)}, comma-separated")
    if args.employees < 1 or args.learning < 0 or args.rounds < 2:
        parser.error("--employees 1 or more, --learning 0 or more, --rounds 2 or more (for a p95)")
    console.print(f"machine: {machine()}")
    started = time.perf_counter()
    try:
        main(kinds, args.employees, args.learning, args.rounds)
    except BenchSetupError as e:
        sys.exit(str(e))
    console.print(
        f"total wall {time.perf_counter() - started:.0f} s; load average now "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
