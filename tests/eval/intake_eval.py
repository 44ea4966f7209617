"""Run the chat intake evaluation set and print accuracy per language and per intent.

.venv/bin/python tests/eval/intake_eval.py
"""

from __future__ import annotations

import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.assistant.intake import Intake, Intent, KnownWords, read  # noqa: E402

CASES = Path(__file__).with_name("intake.yaml")
TODAY = date(2026, 11, 23)  # a Monday, as in tests/conftest.py
# What the HR store of tests/company.py knows, plus the demo company's divisions.
KNOWN = KnownWords(
    people=["Wang Fang", "Fang Wang", "王芳", "Li Wei", "Wei Li", "李伟", "Chen Jing", "陈静"]
    + ["Tom Baker", "Amy Hughes"],
    org_units={
        "ENG-DATA": "ENG-DATA",
        "ENG-PLAT": "ENG-PLAT",
        "Data": "ENG-DATA",
        "数据组": "ENG-DATA",
        "Platform": "ENG-PLAT",
        "平台组": "ENG-PLAT",
        "FIN": "FIN",
        "Finance": "FIN",
        "财务部": "FIN",
        "ENG": "ENG",
        "Engineering": "ENG",
        "工程部": "ENG",
    },
    locations=["Shanghai", "Beijing", "Shenzhen", "Singapore", "London", "New York"],
)


def _text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _text(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None:
        return value
    return str(value)


def check(case: dict, got: Intake) -> list[str]:
    """What differs from the expected outcome (empty: the case passes)."""
    wrong = []
    if got.intent.value != case["intent"]:
        wrong.append(f"intent {got.intent.value}")
    if "kind" in case and (got.kind.value if got.kind else None) != case["kind"]:
        wrong.append(f"kind {got.kind}")
    for name, value in _text(case.get("fields", {})).items():
        if got.fields.get(name) != value:
            wrong.append(f"{name}={got.fields.get(name)!r}")
    if "missing" in case and got.missing != case["missing"]:
        wrong.append(f"missing {got.missing}")
    if case["intent"] == Intent.REQUEST and bool(got.problems) != bool(case.get("invalid")):
        wrong.append(f"problems {got.problems}")
    for part in ("decision", "status"):
        if part in case:
            read_part = getattr(got, part)
            have = read_part.model_dump(mode="json") if read_part else {}
            for name, value in _text(case[part]).items():
                if have.get(name) != value:
                    wrong.append(f"{part}.{name}={have.get(name)!r}")
    return wrong


def run() -> list[dict]:
    out = []
    for case in yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]:
        got = read(case["m"], TODAY, KNOWN)
        wrong = check(case, got)
        out.append({**case, "ok": not wrong, "wrong": wrong, "lang": got.language, "got": got})
    return out


def summary(results: list[dict]) -> dict[str, tuple[int, int]]:
    by: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by["overall"].append(r["ok"])
        by[f"language {r['lang']}"].append(r["ok"])
        by[f"intent {r['intent']}"].append(r["ok"])
        if r.get("invalid"):
            by["invalid values"].append(r["ok"])
    return {k: (sum(v), len(v)) for k, v in by.items()}


def main() -> None:
    results = run()
    for key, (ok, n) in sorted(summary(results).items()):
        print(f"{key:28} {ok:3}/{n:3}  {100 * ok / n:5.1f}%")
    for r in results:
        if not r["ok"]:
            print(f"MISS {r['m']!r}: {'; '.join(r['wrong'])}")


if __name__ == "__main__":
    main()
