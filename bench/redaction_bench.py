"""The redaction gate's cost: building the store's lexicon and masking a prompt, at company sizes.

For each size the demo company is seeded into a fresh SQLite file; then, in the same process:
- the gate: `read_values` + `Lexicon` (Aho-Corasick over every classified value), then
  `Redactor.mask` on three prompts (a chat message, an approval-summary JSON prompt, 20 KB of text
  naming people) with patterns and hints, as the gate runs it;
- the baseline: the obvious alternative, one compiled regular expression alternating every value
  (longest first, case-insensitive), built from the same values and run on the same prompts.

    .venv/bin/python bench/redaction_bench.py                  # 1,000 and 5,000 employees
    .venv/bin/python bench/redaction_bench.py --sizes 2000 20000
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
console = Console(width=140)
ROUNDS = 50


def _prompts(names: list[str], ids: list[str]) -> dict[str, str]:
    chat = f"change {names[7]}'s home address to 1 Jinke Road, Shanghai 201203 from 1 Dec, phone 13912345678"
    summary = (
        f'{{"kind":"salary_change","employee_id":"{ids[3]}","title":"Data Engineer","org_unit":"Platform",'
        f'"changed_fields":["base_pay"],"effective_on":"2026-12-01","requested_by":"{names[11]}",'
        f'"approvers":["{names[12]}","{names[13]}"],"rule":"pay changes: manager then HR"}}'
    )
    para = " ".join(
        f"{names[i % len(names)]} ({ids[i % len(ids)]}) met the team on Monday." for i in range(400)
    )
    return {"chat message (0.1 KB)": chat, "summary prompt (0.3 KB)": summary, "20 KB of text": para[:20_000]}


def _ms(fn, rounds: int = ROUNDS) -> float:  # noqa: ANN001
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(size: int, tmp: Path) -> list[tuple]:
    from sqlalchemy import select

    from tools.demo_company import SeedOptions, seed_store
    from tools.privacy.classes import DataClass
    from tools.privacy.lexicon import Lexicon, read_values
    from tools.privacy.redaction import Hint, Redactor
    from tools.store.db import migrate, session_scope
    from tools.store.models import Employee

    url = f"sqlite:///{tmp / f'store-{size}.db'}"
    migrate(url)
    seed_store(url, SeedOptions(employees=size, seed=42, as_of=date(2026, 11, 23), learning_per_employee=0))
    with session_scope(url) as s:
        t = time.perf_counter()
        values = read_values(s)
        read_s = time.perf_counter() - t
        people = s.execute(select(Employee.display_name, Employee.id).limit(500)).all()
    names, ids = [p[0] for p in people], [p[1] for p in people]
    t = time.perf_counter()
    lexicon = Lexicon(values)
    build_s = time.perf_counter() - t

    t = time.perf_counter()
    alternation = re.compile(
        "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.IGNORECASE
    )
    regex_build_s = time.perf_counter() - t

    rows = [
        (size, "build: read the store", f"{read_s * 1000:.0f}", "", len(values)),
        (size, "build: Aho-Corasick lexicon", f"{build_s * 1000:.0f}", f"{regex_build_s * 1000:.0f}", ""),
    ]
    hints = [Hint("1 Jinke Road", DataClass.PERSONAL, "address")]
    for label, prompt in _prompts(names, ids).items():
        ours = _ms(lambda p=prompt: Redactor(lexicon, frozenset(), hints).mask(p))
        base = _ms(
            lambda p=prompt: [m.span() for m in alternation.finditer(p)],
            rounds=3 if len(prompt) < 1000 else 1,
        )
        rows.append((size, f"mask: {label}", f"{ours:.2f}", f"{base:.2f}", ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    table = Table(title="Redaction gate: ms (median), ours vs one regular expression of every value")
    for col in ("employees", "step", "ours ms", "baseline ms", "values"):
        table.add_column(col, justify="right" if col != "step" else "left")
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            with console.status(f"seeding {size:,} employees and measuring"):
                for row in run(size, Path(tmp)):
                    table.add_row(*(f"{c:,}" if isinstance(c, int) else c for c in row))
            console.print(table)  # after each size: the large ones take minutes (the baseline's compile)
    console.print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
