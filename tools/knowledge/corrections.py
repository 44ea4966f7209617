"""HR answers saved for reuse. When HR ops answer a case and save the answer, the assistant gives it
to the next asker of the same question (in the same language, within the correction's scope) as
"answered by HR on DATE", before searching the policies; each correction is also an evaluation case.

Two questions are the same when their retrieval words (stopwords dropped, stemmed, Chinese
segmented) overlap with a Dice coefficient of at least SAME_QUESTION: rephrasings of a question
match, a question that adds or changes its subject does not.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.knowledge.models import DocumentScope
from tools.knowledge.search import Asker
from tools.knowledge.segment import words
from tools.store import audit
from tools.store.identity import Principal
from tools.store.models import KbCase, KbCorrection

SAME_QUESTION = 0.75


class Correction(BaseModel):
    correction_id: int
    question: str
    language: str
    answer: str
    scope: DocumentScope
    cites: list[str]
    answered_by: str
    answered_on: date
    similarity: float = 1.0


def _scope(case: KbCase, save_as: str) -> DocumentScope:
    asked = case.asker_scope or {}
    if save_as == "location" and asked.get("location"):
        return DocumentScope(locations=[asked["location"]])
    if save_as in ("location", "country") and asked.get("country"):
        return DocumentScope(countries=[asked["country"]])
    return DocumentScope()


def save_correction(
    session: Session, who: Principal, case: KbCase, answer: str, save_as: str, cites: list[str], at: datetime
) -> int:
    row = KbCorrection(
        question=case.question,
        language=case.language,
        answer=answer,
        scope=_scope(case, save_as).model_dump(),
        cites=cites,
        answered_by=who.username,
        answered_on=at.date(),
        created_at=at,
        active=True,
    )
    session.add(row)
    session.flush()
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="kb.correction.saved",
            entity_type="kb_correction",
            entity_id=str(row.id),
            details={"case": f"KB-{case.id}", "scope": row.scope, "cites": cites},
        ),
        at=at,
    )
    return row.id


def _correction(row: KbCorrection, similarity: float = 1.0) -> Correction:
    return Correction(
        correction_id=row.id,
        question=row.question,
        language=row.language,
        answer=row.answer,
        scope=DocumentScope.model_validate(row.scope),
        cites=list(row.cites),
        answered_by=row.answered_by,
        answered_on=row.answered_on,
        similarity=similarity,
    )


@lru_cache(maxsize=4096)
def _question_words(text: str) -> frozenset[str]:
    """A saved question's words: segmented once, not at every question asked."""
    return frozenset(words(text))


def _dice(a: set[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def find_correction(session: Session, question: str, language: str, asker: Asker) -> Correction | None:
    """The saved HR answer to this question for this asker, if any (the most similar, then newest)."""
    asked = set(words(question))
    best: tuple[float, int, KbCorrection] | None = None
    for row in session.scalars(
        select(KbCorrection).where(KbCorrection.active.is_(True), KbCorrection.language == language)
    ):
        if not asker.covers(DocumentScope.model_validate(row.scope)):
            continue
        sim = _dice(asked, _question_words(row.question))
        if sim >= SAME_QUESTION and (best is None or (sim, row.id) > best[:2]):
            best = (sim, row.id, row)
    if best is None:
        return None
    sim, _, row = best
    return _correction(row, similarity=round(sim, 3))


def list_corrections(session: Session) -> list[Correction]:
    active = select(KbCorrection).where(KbCorrection.active.is_(True)).order_by(KbCorrection.id)
    return [_correction(r) for r in session.scalars(active)]
