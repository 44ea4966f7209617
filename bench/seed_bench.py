"""Seeding speed and memory: `hrops seed` against the floor of raw sqlite3 inserts of the same rows.

    .venv/bin/python bench/seed_bench.py            # 2,000 employees
    .venv/bin/python bench/seed_bench.py --large    # also 100,000 employees with 5,000,000 learning records

Each case runs in a fresh process (peak RSS is per process) on a fresh SQLite file in a temp dir.
The baseline inserts the same number of rows (employee- and learning-record-shaped) with sqlite3.executemany and no
generation: what the disk and SQLite alone cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date

from rich.console import Console
from rich.table import Table

CASES = {"2k": (2000, 24.0), "100k": (100_000, 50.0)}


def run_seed(employees: int, per_employee: float, path: str) -> dict:
    from tools.demo_company import SeedOptions, seed_store

    started = time.perf_counter()
    report = seed_store(
        f"sqlite:///{path}",
        SeedOptions(
            employees=employees, seed=42, as_of=date(2026, 11, 23), learning_per_employee=per_employee
        ),
    )
    return {
        "seconds": time.perf_counter() - started,
        "rows": _rows(path),
        "employees": report.employees,
        "learning": report.learning_records,
        "rss_mb": _rss_mb(),
    }


def run_baseline(counts: dict[str, int], path: str) -> dict:
    """Raw executemany of rows shaped like the real ones, into the same schema."""
    from tools.store.db import migrate

    migrate(f"sqlite:///{path}")
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    shapes = {
        "employees": (
            "INSERT INTO employees (id, given_name, family_name, display_name, work_email, hire_date, "
            "status, source, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            lambda i: (f"B{i}", "Fang", "Wang", "王芳", f"b{i}@x", "2020-01-01", "active", "b", "2026-01-01"),
        ),
        "learning_records": (
            "INSERT INTO learning_records (employee_id, course_id, enrolled_on, due_on, completed_on, "
            "hours, score, status) VALUES (?,?,?,?,?,?,?,?)",
            lambda i: ("B1", "C1", "2025-03-01", None, "2025-03-09", 4.5, 88.0, "completed"),
        ),
    }
    db.execute("PRAGMA foreign_keys=OFF")
    for table, n in counts.items():
        sql, make = shapes[table]
        for start in range(0, n, 50_000):
            db.executemany(sql, (make(i) for i in range(start, min(n, start + 50_000))))
            db.commit()
    db.close()
    return {"seconds": time.perf_counter() - started, "rows": sum(counts.values()), "rss_mb": _rss_mb()}


def _rows(path: str) -> int:
    db = sqlite3.connect(path)
    tables = [
        r[0]
        for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    ]
    return sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, case: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, case, os.path.join(tmp, "b.db")],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "HROPS_VAR_DIR": tmp},
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        kind, case, path = args.child
        employees, per = CASES[case]
        if kind == "seed":
            print(json.dumps(run_seed(employees, per, path)))
        else:
            counts = json.loads(os.environ["BENCH_COUNTS"])
            print(json.dumps(run_baseline(counts, path)))
        return
    console = Console()
    table = Table("case", "what", "seconds", "rows", "rows/s", "peak RSS MB")
    for case in ["2k", *(["100k"] if args.large else [])]:
        console.print(f"running {case} ...")
        seeded = _child("seed", case)
        # Same number of rows in all: employee-shaped for the people, learning-shaped for the rest.
        os.environ["BENCH_COUNTS"] = json.dumps(
            {"employees": seeded["employees"], "learning_records": seeded["rows"] - seeded["employees"]}
        )
        floor = _child("baseline", case)
        for what, r in (("hrops seed", seeded), ("baseline: raw sqlite3 executemany", floor)):
            table.add_row(
                case,
                what,
                f"{r['seconds']:.1f}",
                f"{r['rows']:,}",
                f"{r['rows'] / r['seconds']:,.0f}",
                f"{r['rss_mb']:.0f}",
            )
    console.print(table)
    console.print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )


if __name__ == "__main__":
    main()
