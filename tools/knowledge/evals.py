"""HR's corrections as evaluation cases: every answer HR saved for reuse is a question the assistant
must now answer with it. `hrops kb evals` asks each saved question again, as someone within the
correction's scope, and reports whether HR's answer came back; `--export` writes them in the format of
tests/eval/policy_questions.yaml (expect: correction:N) so they can join the evaluation set."""

from __future__ import annotations

from datetime import date

import yaml
from pydantic import BaseModel
from sqlalchemy.orm import Session

from tools.knowledge.answer import ask_policy
from tools.knowledge.corrections import Correction, list_corrections
from tools.knowledge.search import Asker
from tools.market.config import load_config


class CorrectionCheck(BaseModel):
    correction_id: int
    question: str
    language: str
    asked_as: Asker
    ok: bool
    got: str  # "correction:N", the sections cited, or the hand-off


def _asker(c: Correction) -> Asker:
    """Someone inside the correction's scope: its location, else a location of its country."""
    if c.scope.locations:
        location = c.scope.locations[0]
        return Asker(country=load_config().country(location), location=location)
    if c.scope.countries:
        country = c.scope.countries[0]
        city = next((name for name, p in load_config().places.items() if p.country == country), None)
        return Asker(country=country, location=city)
    return Asker()


def check_corrections(session: Session, on: date) -> list[CorrectionCheck]:
    out = []
    for c in list_corrections(session):
        asker = _asker(c)
        answer = ask_policy(session, c.question, asker, on)
        got = (
            f"correction:{answer.correction.correction_id}"
            if answer.correction
            else (
                f"handoff:{answer.handoff}" if answer.handoff else ", ".join(x.ref for x in answer.citations)
            )
        )
        out.append(
            CorrectionCheck(
                correction_id=c.correction_id,
                question=c.question,
                language=c.language,
                asked_as=asker,
                ok=answer.correction is not None and answer.correction.correction_id == c.correction_id,
                got=got,
            )
        )
    return out


def export_yaml(session: Session) -> str:
    """The corrections as evaluation questions (the eval file's format)."""
    cases = []
    for c in list_corrections(session):
        asker = _asker(c)
        case = {
            "q": c.question,
            "lang": c.language,
            "topic": "correction",
            "expect": f"correction:{c.correction_id}",
        }
        if asker.location:
            case["location"] = asker.location
        cases.append(case)
    return yaml.safe_dump(cases, allow_unicode=True, sort_keys=False)
