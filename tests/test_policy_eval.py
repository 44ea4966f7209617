"""The policy assistant's evaluation (tests/eval/policy_questions.yaml, 203 questions, 109 in Chinese)
over the demo handbook. Accuracy per topic and language is printed at the end of the test run.

Floors: every sensitive question and every request for a person is handed to HR (100%); the expected
section is cited first for at least FIRST_FLOOR of the questions. The issue's goal is 95%; offline
lexical retrieval is at 82% (docs/knowledge.md), so the floor guards against regressions while the
goal stays open.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "eval"))

import policy_eval  # noqa: E402

FIRST_FLOOR = 0.80


def test_policy_evaluation(tmp_path: Path, record_property: pytest.RecordProperty) -> None:
    results = policy_eval.run(policy_eval.handbook_store(tmp_path))
    report = policy_eval.report(results, misses=False)
    record_property(
        "evaluation report",
        "policy assistant (tests/eval/policy_eval.py --misses lists the misses)\n" + report,
    )
    assert len(results) >= 200 and sum(r.case.lang == "zh" for r in results) >= 100

    for kind in ("sensitive", "person"):
        cases = [r for r in results if r.case.expect == f"handoff:{kind}"]
        missed = [r.case.q for r in cases if not r.first]
        assert cases and not missed, f"not handed to a person as {kind}: {missed}"

    first = sum(r.first for r in results) / len(results)
    assert first >= FIRST_FLOOR, report
