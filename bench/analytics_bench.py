"""Analytics latency: a question end to end (parse, compile, run, narrate) vs hand-written SQL for
the same question, in the same run, on the same SQLite store.

    .venv/bin/python bench/analytics_bench.py --employees 10000 --learning 100 --rounds 5

The default store is 10,000 active employees (about 14,500 people with leavers) and 100 learning
records each (about 1,450,000 in all). The hand-written SQL is what an analyst would write for the
one question: no scope, no catalogue, no suppression; the floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
console = Console(width=150)
TODAY = date(2026, 11, 23)

# (question, the hand-written SQL an analyst would run for it, as of TODAY)
CASES = [
    (
        "headcount by location",
        """SELECT j.location, COUNT(DISTINCT e.id) FROM employees e JOIN job_assignments j ON j.employee_id = e.id
           AND j.valid_from <= '2026-11-23' AND (j.valid_to IS NULL OR j.valid_to > '2026-11-23') GROUP BY j.location""",
    ),
    (
        "hires by quarter last year",
        """SELECT (CAST(strftime('%m', hire_date) AS INTEGER) + 2) / 3 AS q, COUNT(*) FROM employees
           WHERE hire_date BETWEEN '2025-01-01' AND '2025-12-31' GROUP BY q""",
    ),
    (
        "attrition rate by location last year",
        """WITH l AS (SELECT j.location, COUNT(*) n FROM employees e JOIN job_assignments j ON j.employee_id = e.id
                      AND j.valid_to = e.termination_date WHERE e.termination_date BETWEEN '2025-01-01' AND '2025-12-31'
                      GROUP BY j.location),
                h AS (SELECT j.location, COUNT(*) n FROM job_assignments j WHERE j.valid_from <= :d AND
                      (j.valid_to IS NULL OR j.valid_to > :d) GROUP BY j.location)
           SELECT l.location, l.n * 1.0 / h.n FROM l JOIN h ON h.location = l.location""",
    ),
    (
        "training hours by department this year",
        # departments: the units right under the top, each with its subtree (by path); the top itself
        """WITH dept AS (SELECT u.id, d.code FROM org_units d JOIN org_units u ON u.path LIKE d.path || '%'
                         WHERE d.parent_id = (SELECT id FROM org_units WHERE parent_id IS NULL)
                         UNION ALL SELECT id, code FROM org_units WHERE parent_id IS NULL)
           SELECT dept.code, SUM(l.hours) FROM learning_records l JOIN job_assignments j ON j.employee_id = l.employee_id
           AND j.valid_from <= l.completed_on AND (j.valid_to IS NULL OR j.valid_to > l.completed_on)
           JOIN dept ON dept.id = j.org_unit_id
           WHERE l.completed_on BETWEEN '2026-01-01' AND '2026-11-23' GROUP BY dept.code""",
    ),
    (
        "这个月我们单位的学习数据如何?",
        """SELECT SUM(CASE WHEN completed_on BETWEEN '2026-11-01' AND '2026-11-23' THEN hours END),
                  SUM(CASE WHEN completed_on BETWEEN '2026-11-01' AND '2026-11-23' THEN 1 ELSE 0 END),
                  COUNT(DISTINCT employee_id) FROM learning_records
           WHERE enrolled_on BETWEEN '2026-11-01' AND '2026-11-23' OR completed_on BETWEEN '2026-11-01' AND '2026-11-23'""",
    ),
    (
        "completion rate by course category this quarter",
        """SELECT c.category, SUM(CASE WHEN l.completed_on <= '2026-11-23' THEN 1 ELSE 0 END) * 100.0 / COUNT(*)
           FROM learning_records l JOIN courses c ON c.id = l.course_id
           WHERE l.enrolled_on BETWEEN '2026-10-01' AND '2026-11-23' GROUP BY c.category""",
    ),
]


def _seed(workdir: Path, employees: int, learning: float) -> str:
    os.environ["HROPS_VAR_DIR"] = str(workdir / "var")
    os.environ["HROPS_TODAY"] = TODAY.isoformat()
    from hrops.settings import reset_settings

    reset_settings()
    from tools.demo_company import SeedOptions, seed_store

    url = f"sqlite:///{workdir / 'var' / 'hrops.db'}"
    seed_store(url, SeedOptions(employees=employees, seed=5, learning_per_employee=learning, as_of=TODAY))
    return url


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def time_question(url: str, question: str, sql: str, day: object) -> tuple[float, float, float]:
    """Seconds for one question end to end as an admin, for its compiled statements alone, and for
    the hand-written `sql` (bound with `:d` = `day`)."""
    from tools.analytics.ask import ask
    from tools.store.db import session_scope
    from tools.store.identity import resolve_principal

    with session_scope(url, write=True) as s:
        who = resolve_principal(s, "admin", TODAY)
        t = time.perf_counter()
        result = ask(s, who, question, TODAY)
        ours = time.perf_counter() - t
    if result.refused:
        raise RuntimeError(f"{question!r} was refused on {url.split(':')[0]}: {result.text}")
    with session_scope(url) as s:  # the compiled statements alone: where the time goes
        t = time.perf_counter()
        for statement in result.answer.sql:
            s.execute(text(statement)).all()
        ours_sql = time.perf_counter() - t
    with session_scope(url) as s:
        t = time.perf_counter()
        s.execute(text(sql), {"d": day}).all()
        hand = time.perf_counter() - t
    return ours, ours_sql, hand


def main(employees: int, learning: float, rounds: int) -> None:
    from tools.store.db import session_scope

    with tempfile.TemporaryDirectory() as tmp:
        with console.status(f"seeding {employees:,} employees with {learning:g} learning records each"):
            started = time.perf_counter()
            url = _seed(Path(tmp), employees, learning)
            seeded = time.perf_counter() - started
        with session_scope(url) as s:
            learning_rows = s.execute(text("SELECT COUNT(*) FROM learning_records")).scalar()
            people = s.execute(text("SELECT COUNT(*) FROM employees")).scalar()
        console.print(f"seeded {people:,} people, {learning_rows:,} learning records in {seeded:.0f} s")
        ours: dict[str, list[float]] = {q: [] for q, _ in CASES}
        floor: dict[str, list[float]] = {q: [] for q, _ in CASES}
        ours_sql: dict[str, list[float]] = {q: [] for q, _ in CASES}
        for _ in range(rounds):  # interleaved, so machine noise hits both alike
            for question, sql in CASES:
                o, o_sql, f = time_question(url, question, sql, "2024-12-31")
                ours[question].append(o)
                ours_sql[question].append(o_sql)
                floor[question].append(f)
    table = Table(
        "question",
        "ours p50 ms",
        "ours p95 ms",
        "of which SQL",
        "hand SQL p50 ms",
        "ratio",
        "goal: <= 1.2x + 20 ms",
    )
    for question, _ in CASES:
        o50, f50 = _p(ours[question], 50) * 1000, _p(floor[question], 50) * 1000
        goal = 1.2 * f50 + 20
        table.add_row(
            question,
            f"{o50:.1f}",
            f"{_p(ours[question], 95) * 1000:.1f}",
            f"{_p(ours_sql[question], 50) * 1000:.1f}",
            f"{f50:.1f}",
            f"{o50 / f50:.2f}x",
            "met" if o50 <= goal else f"missed ({goal:.0f} ms)",
        )
    console.print(table)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--learning", type=float, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    main(args.employees, args.learning, args.rounds)
