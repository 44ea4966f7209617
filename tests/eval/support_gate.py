"""Choose the embedding model's support gate: when the best passage supports an answer.

.venv/bin/python tests/eval/support_gate.py

With a calibrated embedding model (`Calibration.words` > 0), the assistant answers when

    similarity + words * ln(confidence + 0.05) >= min_support

where similarity is the best passage's cosine to the question and confidence its word score
(search.SearchResult). Meaning alone puts a question about stock options as close to the 401(k)
section as a chatty question about a lost receipt is to the receipts section; the words tell them
apart where meaning cannot, and the other way round.

This script asks every question of the evaluation sets against the handbook, then tries each line
on a grid and keeps the one that gets most questions of the tuning and development sets right (the
expected section first and answered, or a question the handbook cannot answer handed to HR). The
test and fresh sets are reported with the chosen line, never used to choose it. Questions triage
hands to HR (sensitive, asking for a person) do not depend on the gate and are left out.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import policy_eval  # noqa: E402

from tools.knowledge.embeddings import calibration, support_score  # noqa: E402

FIT = ("tuning", "development")
SLOPES = [i / 500 for i in range(0, 51)]  # 0 .. 0.1
FLOORS = [0.78 + i / 1000 for i in range(0, 141)]  # 0.78 .. 0.92


class Point(BaseModel):
    """One question as the gate sees it."""

    set: str
    question: str
    answerable: bool  # the handbook answers it (else it expects a hand-off: no passage supports it)
    right: bool  # the search found the expected section first
    similarity: float
    confidence: float
    answered_now: bool  # the assistant answers it with the model's current calibration

    def score(self, slope: float) -> float:
        return support_score(self.similarity, self.confidence, slope)


def _right(case: policy_eval.Case, retrieved: list[str]) -> bool:
    if not retrieved:
        return False
    ref, _, version = retrieved[0].rpartition("@")
    return ref == case.expect and case.version in (None, int(version))


def points(url: str) -> list[Point]:
    out = []
    for name, path in policy_eval.SETS.items():
        for r in policy_eval.run(url, path):
            if r.answer.support is None or not r.answer.retrieved:
                continue  # routed by triage, or no embedding index: the gate plays no part
            out.append(
                Point(
                    set=name,
                    question=r.case.q,
                    answerable=not r.case.expect.startswith("handoff:"),
                    right=_right(r.case, r.answer.retrieved),
                    similarity=r.answer.support,
                    confidence=r.answer.confidence,
                    answered_now=r.answer.status == "answered",
                )
            )
    return out


def correct(p: Point, answered: bool) -> bool:
    return (p.right and answered) if p.answerable else not answered


def choose(ps: list[Point], now: tuple[float, float]) -> tuple[float, float]:
    """The (slope, floor) getting most of the fitting sets right; on a tie, the one handing off more
    of the questions the handbook cannot answer, then the line in use (`now`: no change without a
    gain), then the smaller slope and the higher floor."""
    fit = [p for p in ps if p.set in FIT]
    best: tuple[tuple[int, int, bool, float, float], float, float] | None = None
    for slope in [*SLOPES, now[0]]:
        scores = [p.score(slope) for p in fit]
        for floor in [*FLOORS, now[1]]:
            right = sum(correct(p, s >= floor) for p, s in zip(fit, scores, strict=True))
            safe = sum(not p.answerable and s < floor for p, s in zip(fit, scores, strict=True))
            key = (right, safe, (slope, floor) == now, -slope, floor)
            if best is None or key > best[0]:
                best = (key, slope, floor)
    assert best is not None
    return best[1], best[2]


def report(ps: list[Point], slope: float, floor: float) -> Table:
    """Questions right per set with the model's calibration now and with the chosen line."""
    table = Table(title=f"chosen: similarity + {slope:.3f} * ln(confidence + 0.05) >= {floor:.3f}")
    for col in ("set", "questions", "right now", "chosen", "found first", "no answer, handed off"):
        table.add_column(col, justify="right" if col != "set" else "left")
    for name in policy_eval.SETS:
        sub = [p for p in ps if p.set == name]
        now = sum(correct(p, p.answered_now) for p in sub)
        new = sum(correct(p, p.score(slope) >= floor) for p in sub)
        neg = [p for p in sub if not p.answerable]
        handed = sum(p.score(slope) < floor for p in neg)
        label = name + ("*" if name in FIT else "")
        found = sum(p.right for p in sub if p.answerable)
        answerable = sum(p.answerable for p in sub)
        table.add_row(
            label, str(len(sub)), str(now), str(new), f"{found}/{answerable}", f"{handed}/{len(neg)}"
        )
    return table


if __name__ == "__main__":
    from hrops.settings import get_settings

    model = get_settings().embedding_model
    if not model:
        sys.exit("no embedding model is set (HROPS_EMBEDDING_MODEL): the gate has nothing to decide")
    with tempfile.TemporaryDirectory() as tmp:
        ps = points(policy_eval.handbook_store(Path(tmp)))
    now = calibration(model)
    slope, floor = choose(ps, (now.words, now.min_support))
    console = Console()
    console.print(f"{model} now: words={now.words:.3f}, min_support={now.min_support:.3f}")
    console.print(report(ps, slope, floor))
    console.print(
        f"* chosen on these sets. In tools/knowledge/embeddings.py CALIBRATIONS[{model!r}]: "
        f"words={slope:.3f}, min_support={floor:.3f}"
    )
