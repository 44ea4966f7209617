"""Run the analytics evaluation set and print accuracy per language and per question type.

.venv/bin/python tests/eval/evaluate.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.analytics.parser import parse  # noqa: E402

CASES = Path(__file__).with_name("questions.yaml")
# The filter values of the seeded demo company.
VALUES = {
    "location": ["Shanghai", "Beijing", "Shenzhen", "Singapore", "London", "New York"],
    "job_family": [
        "Engineering",
        "Product",
        "Sales",
        "Marketing",
        "Operations",
        "Finance",
        "Human Resources",
        "Legal",
    ],
    "level": [f"L{i}" for i in range(1, 10)],
    "org_unit": ["ENG", "PRD", "SAL", "MKT", "OPS", "FIN", "HR", "LGL"],
}


def run() -> list[dict]:
    out = []
    for case in yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]:
        parsed = parse(case["q"], VALUES)
        got = parsed.query.model_dump(mode="json", exclude_defaults=True) if parsed.query else None
        ok = got is None if case.get("refuse") else got == case["expect"]
        out.append({**case, "ok": ok, "got": got, "lang": parsed.language, "confidence": parsed.confidence})
    return out


def main() -> None:
    results = run()
    by: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by[f"language {r['lang']}"].append(r["ok"])
        by[f"type {r['type']}"].append(r["ok"])
    for key in sorted(by):
        oks = by[key]
        print(f"{key:28} {sum(oks):3}/{len(oks):3}  {100 * sum(oks) / len(oks):5.1f}%")
    for r in results:
        if not r["ok"]:
            print(f"MISS {r['q']!r}: got {r['got']}, expected {r.get('expect', 'a refusal')}")


if __name__ == "__main__":
    main()
