"""Run the policy assistant's evaluation set (policy_questions.yaml) over the demo handbook and print
accuracy per topic and language.

.venv/bin/python tests/eval/policy_eval.py [--misses]

Each question is asked as someone at its `location` (country from the location) and `group`, on its
`on` date, against a fresh store holding only the handbook. A question with `expect: doc#anchor` is
right when that section is cited first (`first`) or at all (`cited`); `version: N` also requires
that version. `expect: handoff:sensitive|person|unsupported` is right when the assistant hands the
question to HR for that reason (`unsupported` also accepts a hand-off for low confidence: both mean
no passage supports an answer).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hrops.settings import Settings, get_settings  # noqa: E402
from tools.knowledge.answer import PolicyAnswer, ask_policy  # noqa: E402
from tools.knowledge.search import Asker  # noqa: E402

CASES = Path(__file__).with_name("policy_questions.yaml")
COUNTRY = {
    "Shanghai": "CN",
    "Beijing": "CN",
    "Shenzhen": "CN",
    "Singapore": "SG",
    "London": "GB",
    "New York": "US",
}
DEFAULT_DAY = date(2026, 12, 1)


class Case(BaseModel):
    q: str
    lang: str
    topic: str
    expect: str
    location: str = "Shanghai"
    group: str = "staff"
    on: date = DEFAULT_DAY
    version: int | None = None
    personal: bool = False


class Result(BaseModel):
    case: Case
    answer: PolicyAnswer
    first: bool  # the expected section is the first citation (or the expected hand-off happened)
    cited: bool  # the expected section is among the citations

    @property
    def handoff_case(self) -> bool:
        return self.case.expect.startswith("handoff:")


HOLDOUT = Path(__file__).with_name("policy_questions_holdout.yaml")  # development: tuned against
FINAL = Path(__file__).with_name("policy_questions_test.yaml")  # not tuned against
FRESH = Path(__file__).with_name("policy_questions_fresh.yaml")  # written after the test set was looked at
FRESH2 = Path(__file__).with_name("policy_questions_fresh2.yaml")  # written with the sample questions
FRESH3 = Path(__file__).with_name("policy_questions_fresh3.yaml")  # written with the triage examples


SETS = {
    "tuning": CASES,
    "development": HOLDOUT,
    "test": FINAL,
    "fresh": FRESH,
    "fresh2": FRESH2,
    "fresh3": FRESH3,
}


def cases(path: Path = CASES) -> list[Case]:
    return [Case.model_validate(c) for c in yaml.safe_load(path.read_text(encoding="utf-8"))]


def judge(case: Case, answer: PolicyAnswer) -> tuple[bool, bool]:
    if case.expect.startswith("handoff:"):
        want = case.expect.split(":", 1)[1]
        got = answer.handoff
        ok = got == want or (want == "unsupported" and got == "low_confidence")
        return ok, ok
    right = [c.ref == case.expect and case.version in (None, c.version) for c in answer.citations]
    return bool(right) and right[0], any(right)


def run(url: str, path: Path = CASES) -> list[Result]:
    """Ask every question of the set at `path` against the store at `url`, which holds the handbook."""
    from tools.store.db import session_scope

    out = []
    with session_scope(url) as s:
        for case in cases(path):
            asker = Asker(country=COUNTRY.get(case.location), location=case.location, group=case.group)
            answer = ask_policy(s, case.q, asker, case.on)
            first, cited = judge(case, answer)
            out.append(Result(case=case, answer=answer, first=first, cited=cited))
    return out


def handbook_store(workdir: Path, settings: Settings | None = None) -> str:
    """A store holding only the demo handbook, embedded as an import leaves it when `settings` (by
    default the environment's) name an embedding model: the questions then find the index users have,
    not one built while they are asked."""
    from tools.demo_company.handbook import seed_handbook
    from tools.knowledge import embeddings
    from tools.store.db import migrate, session_scope

    url = f"sqlite:///{workdir / 'kb.db'}"
    migrate(url)
    with session_scope(url, write=True) as s:
        seed_handbook(s)
    settings = settings or get_settings()
    if settings.embedding_model:
        with session_scope(url) as s:
            embeddings.embed_sections(s, settings)
    return url


def report(results: list[Result], *, misses: bool = True) -> str:
    by: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by[f"topic {r.case.topic}"].append(r)
        by[f"language {r.case.lang}"].append(r)
        by["all"].append(r)
    lines = [f"{'':28} {'first':>11} {'cited':>11}"]
    for key in sorted(by, key=lambda k: (k == "all", k)):
        rs = by[key]
        f, c = sum(r.first for r in rs), sum(r.cited for r in rs)
        lines.append(
            f"{key:28} {f:3}/{len(rs):3} {100 * f / len(rs):4.0f}% {c:3}/{len(rs):3} {100 * c / len(rs):4.0f}%"
        )
    # What a miss cost the asker: a needless hand-off (a person answers) or a wrong answer (quoted
    # from the wrong section, or answered where it should have gone to a person).
    needless = sum(
        1 for r in results if not r.first and not r.handoff_case and r.answer.status == "handed_off"
    )
    wrong = sum(1 for r in results if not r.first and r.answer.status == "answered")
    lines.append(
        f"misses: {needless} handed to HR needlessly, {wrong} answered from the wrong section or not handed off"
    )
    if misses:
        for r in results:
            if not r.first:
                got = (
                    r.answer.handoff
                    and f"handoff:{r.answer.handoff}"
                    or ", ".join(c.ref for c in r.answer.citations)
                )
                lines.append(
                    f"MISS [{r.case.lang} {r.case.location}] {r.case.q!r}: got {got} "
                    f"(coverage {r.answer.coverage:.2f}, confidence {r.answer.confidence:.2f}; "
                    f"retrieved {', '.join(r.answer.retrieved[:3])}), expected {r.case.expect}"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every question not answered as expected")
    parser.add_argument(
        "--set",
        choices=tuple(SETS),
        default="tuning",
        help=f"tuning: {CASES.name}; development: {HOLDOUT.name}; test: {FINAL.name}; fresh: {FRESH.name}; fresh2: {FRESH2.name}",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = run(handbook_store(Path(tmp)), SETS[args.set])
        print(report(results, misses=args.misses))
