"""Reviewers' corrections as evaluation cases (the second-tier correction loop).

A corrected review item says: given this prompt, the agent should have written this output.
`export_cases` reads them from the store, `write_cases` / `load_cases` keep them in a YAML file
(by default `<var_dir>/review/eval_cases.yaml`: prompts name people, so the file stays with the HR
data, owner-only, never in the repository), and `run_cases` asks the agent again and reports per case
whether it now writes the correction. Re-running is given the agent runner (`agents.review_replay`),
because this layer does not import agents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hrops.settings import Settings, get_settings
from tools.review.models import (
    LABEL_PREFIX,
    CaseOutcome,
    CaseResult,
    EvalCase,
    EvalReport,
    Output,
    ReviewStatus,
)
from tools.review.queue import replaying, require_reviewer
from tools.store import audit
from tools.store.identity import Principal
from tools.store.models import OutputReview

VERSION = 1
HEADER = """\
# Evaluation cases from reviewers' corrections (`hrops review evals`). Each case is the prompt an
# agent was given (as sent to the model, after redaction) and the output a reviewer says it should
# have written (`expected`), beside what it wrote (`original`) and why it was corrected.
# Prompts and outputs may name people: keep this file where HR data may be kept.
"""


class CaseFile(BaseModel):
    version: int = VERSION
    cases: list[EvalCase]


class EvalFileError(ValueError):
    pass


class NoReplay(Exception):
    """The agent of a case cannot be re-run here (unknown agent, or a prompt it cannot read)."""


Replay = Callable[[EvalCase], Awaitable[Output]]


def default_file(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).var_dir / "review" / "eval_cases.yaml"


def export_cases(session: Session) -> list[EvalCase]:
    """Every corrected review item as a case, oldest first."""
    rows = session.scalars(
        select(OutputReview)
        .where(OutputReview.status == ReviewStatus.CORRECTED.value)
        .order_by(OutputReview.id)
    )
    return [
        EvalCase(
            id=f"{LABEL_PREFIX}{r.id}",
            agent=r.agent,
            topic=r.topic,
            prompt=r.prompt,
            expected=r.correction,
            original=r.output,
            reason=r.reason or "",
            endpoint=r.endpoint,
            corrected_by=r.decided_by or "",
            corrected_at=r.decided_at,
        )
        for r in rows
    ]


def export_to_file(session: Session, who: Principal, path: Path) -> list[EvalCase]:
    """Write every correction as a case to `path` (reviewers only; audited with the count)."""
    require_reviewer(who)
    cases = export_cases(session)
    write_cases(path, cases)
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="review.cases_exported",
            entity_type="review",
            details={"cases": len(cases), "file": path.name},
        ),
    )
    return cases


def dump_cases(cases: list[EvalCase]) -> str:
    body = CaseFile(cases=cases).model_dump(mode="json")
    return HEADER + yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=110)


def write_cases(path: Path, cases: list[EvalCase]) -> Path:
    """Write the file readable by its owner only (prompts may name people)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(dump_cases(cases))
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT
    return path


def load_cases(path: Path) -> list[EvalCase]:
    if not path.exists():
        raise EvalFileError(f"{path}: no such file; `hrops review evals` writes it from the corrections")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise EvalFileError(f"{path}: not valid YAML: {e}") from None
    try:
        return CaseFile.model_validate(data).cases
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EvalFileError(
            f"{path}: {where}: {first['msg']} ({e.error_count()} problem(s) in all)"
        ) from None


def _same_text(a: str, b: str) -> bool:
    return re.sub(r"\s+", " ", a).strip() == re.sub(r"\s+", " ", b).strip()


def differences(expected: Output, actual: Any) -> list[str]:
    """The fields of `expected` the actual output does not match (["text"] for text, ["kind"] when
    one is text and the other a JSON object)."""
    if isinstance(expected, str) != isinstance(actual, str):
        return ["kind"]
    if isinstance(expected, str):
        return [] if _same_text(expected, actual) else ["text"]
    if not isinstance(actual, dict):
        return ["kind"]
    return [k for k, v in expected.items() if actual.get(k) != v]


async def run_cases(cases: list[EvalCase], replay: Replay, *, model: str, endpoint: str) -> EvalReport:
    """Re-run each case's prompt with `replay` and compare with its correction. A prompt goes only to
    the local model or to the endpoint it was redacted for; the re-runs are not offered for review."""
    results = []
    for case in cases:
        if endpoint != "local" and case.endpoint != endpoint:
            results.append(
                CaseResult(
                    id=case.id,
                    agent=case.agent,
                    outcome=CaseOutcome.SKIPPED,
                    detail=f"its prompt was prepared for {case.endpoint or 'an unknown endpoint'}, "
                    f"not sent to {endpoint}; run with the offline model",
                )
            )
            continue
        try:
            with replaying():
                actual = await replay(case)
        except NoReplay as e:
            results.append(
                CaseResult(id=case.id, agent=case.agent, outcome=CaseOutcome.SKIPPED, detail=str(e))
            )
            continue
        except Exception as e:  # noqa: BLE001 - one failing case must not stop the others
            # The type only: a message can quote the prompt.
            results.append(
                CaseResult(id=case.id, agent=case.agent, outcome=CaseOutcome.ERROR, detail=type(e).__name__)
            )
            continue
        diff = differences(case.expected, actual)
        results.append(
            CaseResult(
                id=case.id,
                agent=case.agent,
                outcome=CaseOutcome.DIFFERS if diff else CaseOutcome.MATCHED,
                differences=diff,
            )
        )
    return EvalReport(model=model, results=results)
