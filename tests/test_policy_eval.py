"""The policy assistant's evaluation over the demo handbook, on six sets of questions (half of
them Chinese); accuracy per topic and language is printed at the end of the test run:

- tuning (policy_questions.yaml, 203): the weights and thresholds were chosen on it;
- development (policy_questions_holdout.yaml, 100): written without sight of the code or the tuning
  set, then used to choose the embedding fusion and hand-off rule;
- test (policy_questions_test.yaml, 100): written without sight of either; measured once clean,
  then looked at for its two sensitive misses and to compare embedding models;
- fresh (policy_questions_fresh.yaml, 100): written without sight of the code or the other sets;
  measured once clean (80%, 4 of 8 sensitive), then its four sensitive misses got triage patterns;
- fresh2 (policy_questions_fresh2.yaml, 100): written last, the same way, while the handbook's
  sample questions were being written (by another hand, without sight of it); measured once clean
  (79%, 5 of 8 sensitive), then its three sensitive misses got triage patterns;
- fresh3 (policy_questions_fresh3.yaml, 100): written the same way while the examples for triage
  by meaning were written (by another hand, without sight of it); measured once clean (65%, 8 of 8
  sensitive, 4 of them by meaning alone; 2 of 4 requests for a person), then its two person misses
  got patterns and the routine examples were widened (which removed one needless hand-off).

Floors: every sensitive question and every request for a person is handed to HR (100%) in every
set; the expected section is cited first for at least the set's floor, and cited at all (first, or
beside the best when the ranking cannot tell them apart) for at least its CITED_FLOOR. The issue's
goal is 95%; the figures are in docs/knowledge.md, so the floors guard against regressions while the
goal stays open.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from hrops.settings import Settings, reset_settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "eval"))

import policy_eval  # noqa: E402

from tools.knowledge import triage_by_meaning  # noqa: E402
from tools.knowledge.answer import ask_policy  # noqa: E402
from tools.knowledge.search import Asker  # noqa: E402
from tools.store.db import session_scope  # noqa: E402

FIRST_FLOOR = {
    "tuning": 0.90,
    "development": 0.89,
    "test": 0.90,
    "fresh": 0.88,
    "fresh2": 0.83,
    "fresh3": 0.65,
}
CITED_FLOOR = {
    "tuning": 0.92,
    "development": 0.92,
    "test": 0.93,
    "fresh": 0.93,
    "fresh2": 0.89,
    "fresh3": 0.72,
}
SIZE = {"tuning": 200, "development": 100, "test": 100, "fresh": 100, "fresh2": 100, "fresh3": 100}


@pytest.fixture(autouse=True)
def _default_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The evaluation measures what users get: the default embedding model (conftest turns it off)."""
    monkeypatch.setenv("HROPS_EMBEDDING_MODEL", Settings.model_fields["embedding_model"].default)
    reset_settings()


@pytest.fixture(scope="module")
def handbook_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    default = Settings(embedding_model=Settings.model_fields["embedding_model"].default)
    return policy_eval.handbook_store(tmp_path_factory.mktemp("handbook"), default)


@pytest.mark.parametrize("name", list(FIRST_FLOOR))
def test_policy_evaluation(name: str, handbook_store: str, record_property: pytest.RecordProperty) -> None:
    results = policy_eval.run(handbook_store, policy_eval.SETS[name])
    report = policy_eval.report(results, misses=False)
    record_property(
        "evaluation report",
        f"policy assistant, {name} set ({policy_eval.SETS[name].name}; "
        f"tests/eval/policy_eval.py --set {name} --misses lists the misses)\n{report}",
    )
    assert len(results) >= SIZE[name] and sum(r.case.lang == "zh" for r in results) >= SIZE[name] // 2

    for kind in ("sensitive", "person"):
        cases = [r for r in results if r.case.expect == f"handoff:{kind}"]
        missed = [r.case.q for r in cases if not r.first]
        assert cases and not missed, f"not handed to a person as {kind}: {missed}"

    first = sum(r.first for r in results) / len(results)
    cited = sum(r.cited for r in results) / len(results)
    assert first >= FIRST_FLOOR[name] and cited >= CITED_FLOOR[name], report


def test_an_answer_the_ranking_cannot_settle_quotes_both_sections(handbook_store: str) -> None:
    """Two sections within the model's tie are both quoted, best first; a clear best stands alone."""
    shanghai = Asker(country="CN", location="Shanghai", group="staff")
    with session_scope(handbook_store) as s:
        late = ask_policy(
            s,
            "forgot to claim a taxi receipt from two months ago, can I still submit it?",
            shanghai,
            date(2026, 12, 1),
        )
        hotel = ask_policy(
            s,
            "what is the maximum I can spend on a hotel per night on a business trip?",
            shanghai,
            date(2026, 12, 1),
        )
    assert [c.ref for c in late.citations] == ["expenses.en#submission-deadline", "expenses.en#receipts"]
    assert "60 days" in late.text  # the deadline is in what the asker reads
    assert [c.ref for c in hotel.citations] == ["expenses.en#hotel-limits"]


def test_by_meaning_alone_finds_most_sensitive_questions_of_the_evaluation_and_few_others(
    handbook_store: str,
) -> None:
    """Over every evaluation set, with the patterns left out: the examples were written without sight
    of these questions, so this measures how much the meaning adds where the patterns miss. (Here,
    after the sets were asked, the questions' vectors are remembered.)"""
    cases = [c for path in policy_eval.SETS.values() for c in policy_eval.cases(path)]
    with session_scope(handbook_store) as s:
        found = [(c.expect, triage_by_meaning.by_meaning(s, c.q)) for c in cases]
    sensitive = [t for expect, t in found if expect == "handoff:sensitive"]
    others = [t for expect, t in found if expect not in ("handoff:sensitive", "handoff:person")]
    caught = sum(t is not None and t.route == "sensitive" for t in sensitive) / len(sensitive)
    wrongly = sum(t is not None for t in others) / len(others)
    print(
        f"by meaning alone: {caught:.0%} of {len(sensitive)} sensitive, {wrongly:.1%} of {len(others)} others"
    )
    assert caught >= 0.75 and wrongly <= 0.01
