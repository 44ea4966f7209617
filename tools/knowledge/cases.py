"""The second tier: policy questions the assistant hands to HR ops become cases (KB-n) with the
question, the reason, what the search found and the draft answer; HR ops answer them, the asker is
told, and an answer can be saved as a correction that the assistant gives next time.

A case is a row in the HR store and its notifications go through the outbox (delivered to chat by
`hrops channels deliver`), so nothing depends on a running worker: a question asked while the stack
is down is still waiting when HR looks. Opening is idempotent per asker and question (a repeated
chat message opens one case); an answer is final (two HR people answering at once: one answer and a
clear refusal). Every step is audited with ids, reasons and citations, never the question's words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hrops.clock import now
from tools.knowledge.answer import PolicyAnswer
from tools.knowledge.corrections import save_correction
from tools.knowledge.search import Asker
from tools.notify.outbox import Message, queue
from tools.store import audit
from tools.store.identity import Principal
from tools.store.models import KbCase, Role, User, UserRole

PREFIX = "KB-"
ANSWERERS = frozenset({Role.HR_OPS, Role.ADMIN})
CorrectionScope = Literal["everyone", "country", "location"]


class CaseError(Exception):
    """A case request refused, with a message a person can act on."""


class Case(BaseModel):
    case_id: str
    asker: str
    question: str
    language: str
    asked_on: date
    reason: str
    category: str | None
    retrieved: list[str]
    draft: str | None
    triage_why: str | None = None
    status: Literal["open", "answered"]
    created_at: str
    answered_by: str | None = None
    answered_at: str | None = None
    answer: str | None = None
    correction_id: int | None = None

    def listed(self) -> Case:
        """As a list shows it: a sensitive matter's words (its question, what triage matched) are
        read on the case itself, not in a list on a shared screen."""
        return (
            self.model_copy(update={"question": "", "triage_why": None})
            if self.reason == "sensitive"
            else self
        )


def label(number: int) -> str:
    return f"{PREFIX}{number}"


def parse_label(text: str) -> int:
    raw = text.strip().upper().removeprefix(PREFIX)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise CaseError(
            f"{text!r} is not a case id; case ids look like {PREFIX}3 (`hrops cases list` shows them)"
        )
    return int(raw)


def _case(row: KbCase) -> Case:
    return Case(
        case_id=label(row.id),
        asker=row.asker,
        question=row.question,
        language=row.language,
        asked_on=row.asked_on,
        reason=row.reason,
        category=row.category,
        retrieved=list(row.retrieved),
        draft=row.draft,
        triage_why=row.triage_why,
        status=row.status,  # type: ignore[arg-type]
        created_at=row.created_at.isoformat(timespec="seconds"),
        answered_by=row.answered_by,
        answered_at=row.answered_at.isoformat(timespec="seconds") if row.answered_at else None,
        answer=row.answer,
        correction_id=row.correction_id,
    )


def _holders(session: Session, role: Role) -> list[str]:
    """The active users holding `role`."""
    return list(
        session.scalars(
            select(User.username)
            .join(UserRole, UserRole.username == User.username)
            .where(UserRole.role == role, User.active.is_(True))
            .order_by(User.username)
            .distinct()
        )
    )


def hr_ops(session: Session) -> list[str]:
    """The active HR ops people, who are told about new cases."""
    return _holders(session, Role.HR_OPS)


def open_case(session: Session, who: Principal, answer: PolicyAnswer, asker: Asker) -> Case:
    """Open a case for a handed-off answer, or return the asker's open case for the same question."""
    if answer.status != "handed_off" or answer.handoff is None:
        raise CaseError("only a question the assistant handed on becomes a case")
    same = session.scalar(
        select(KbCase).where(
            KbCase.asker == who.username, KbCase.question == answer.question, KbCase.status == "open"
        )
    )
    if same is not None:
        return _case(same)
    row = KbCase(
        asker=who.username,
        question=answer.question,
        language=answer.language,
        asked_on=answer.asked_on,
        reason=answer.handoff,
        category=answer.category,
        asker_scope=asker.model_dump(),
        retrieved=answer.retrieved,
        draft=answer.draft,
        triage_why=answer.triage_why,
        status="open",
        created_at=now(),
    )
    session.add(row)
    session.flush()
    case_id = label(row.id)
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="kb.case.opened",
            entity_type="kb_case",
            entity_id=case_id,
            details={
                "reason": row.reason,
                "category": row.category,
                "triaged_by": answer.triaged_by,
                "language": row.language,
                "retrieved": row.retrieved,
            },
            event_key=f"kb.case.opened:{case_id}",
        ),
    )
    why = f"{row.reason}: {row.category}" if row.category else row.reason
    queue(
        session,
        Message(
            recipients=hr_ops(session),
            kind="kb_case_opened",
            subject=f"Policy question {case_id} from {who.display_name} is waiting ({why.replace('_', ' ')})",
            body=(
                f"Open it on the console's Cases page (/console/cases/{case_id}) or with "
                f'`hrops cases show {case_id}`; answer it there or with `hrops cases answer {case_id} "..."`.'
            ),
            key=f"kb.case.opened:{case_id}",
        ),
    )
    return _case(row)


def may_answer(who: Principal) -> bool:
    return who.has(*ANSWERERS)


def list_cases(
    session: Session, who: Principal, status: Literal["open", "answered"] | None = "open", limit: int = 100
) -> list[Case]:
    """HR ops and admins see every case, anyone else their own."""
    query = select(KbCase).order_by(KbCase.id).limit(limit)
    if status:
        query = query.where(KbCase.status == status)
    if not may_answer(who):
        query = query.where(KbCase.asker == who.username)
    return [_case(r) for r in session.scalars(query)]


def get_case(session: Session, who: Principal, case_id: str) -> Case:
    row = session.get(KbCase, parse_label(case_id))
    if row is None or (not may_answer(who) and row.asker != who.username):
        raise CaseError(
            f"no case {case_id.upper()} for {who.username}; `hrops cases list` shows the cases you can see"
        )
    return _case(row)


def answer_case(
    session: Session,
    who: Principal,
    case_id: str,
    text: str,
    *,
    save_as: CorrectionScope | None = None,
    cites: list[str] | None = None,
) -> Case:
    """Record HR's answer, tell the asker, and (with `save_as`) keep it as a correction for askers
    in the same country or location as this one, or everyone."""
    if not may_answer(who):
        raise CaseError(
            f"{who.username} may not answer policy cases: HR ops and admins do (a role granted in user_roles)"
        )
    text = text.strip()
    if not text:
        raise CaseError("the answer is empty: write what the asker should be told")
    number = parse_label(case_id)
    row = session.get(KbCase, number)
    if row is None:
        raise CaseError(f"no case {label(number)}; `hrops cases list` shows the open ones")
    if row.asker == who.username:
        raise CaseError(f"{label(number)} is your own question: another HR ops person answers it")
    if row.status != "open":
        raise CaseError(
            f"{label(number)} was answered by {row.answered_by} on {row.answered_at:%Y-%m-%d}; it is closed"
        )
    if save_as and row.reason == "sensitive":
        raise CaseError(
            f"{label(number)} is a sensitive matter ({row.category}): its answer is for this person only and "
            "cannot be saved as a correction"
        )
    at = now()
    correction_id = None
    if save_as:
        correction_id = save_correction(session, who, row, text, save_as, cites or [], at)
    # One statement guarded by the status: of two answers at once, one lands and one is refused.
    done = session.execute(
        update(KbCase)
        .where(KbCase.id == number, KbCase.status == "open")
        .values(
            status="answered",
            answered_by=who.username,
            answered_at=at,
            answer=text,
            correction_id=correction_id,
        )
    )
    if done.rowcount != 1:
        raise CaseError(f"{label(number)} was answered by someone else just now; it is closed")
    session.refresh(row)
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="kb.case.answered",
            entity_type="kb_case",
            entity_id=label(number),
            details={"reason": row.reason, "correction": correction_id, "saved_for": save_as},
            event_key=f"kb.case.answered:{label(number)}",
        ),
        at=at,
    )
    zh = row.language == "zh"
    queue(
        session,
        Message(
            recipients=[row.asker],
            kind="kb_case_answered",
            subject=(
                f"HR 已回复您的问题 {label(number)}" if zh else f"HR answered your question {label(number)}"
            ),
            body=text,
            key=f"kb.case.answered:{label(number)}",
        ),
    )
    return _case(row)


class Reminders(BaseModel):
    reminded: list[str] = []  # cases brought up to HR ops again
    escalated: list[str] = []  # cases sent on to the admins


def admins(session: Session) -> list[str]:
    return _holders(session, Role.ADMIN)


def remind_overdue(
    session: Session, at: datetime, remind_after: timedelta, escalate_after: timedelta
) -> Reminders:
    """Bring open cases up again: once to HR ops after `remind_after`, once to the admins after
    `escalate_after`. Each is an outbox event of its own, so running this every hour (or twice at
    once) sends each reminder once."""
    out = Reminders()
    overdue = session.scalars(
        select(KbCase)
        .where(KbCase.status == "open", KbCase.created_at <= at - remind_after)
        .order_by(KbCase.id)
    )
    for row in overdue:
        case_id = label(row.id)
        waited = int((at - _aware(row.created_at)).total_seconds() // 3600)
        why = f"{row.reason}: {row.category}" if row.category else row.reason
        steps = [("reminder", hr_ops(session), out.reminded)]
        if _aware(row.created_at) <= at - escalate_after:
            steps.append(("escalated", admins(session), out.escalated))
        for step, recipients, done in steps:
            key = f"kb.case.{step}:{case_id}"
            subject = (
                f"Policy question {case_id} still open after {waited} hours ({why.replace('_', ' ')})"
                if step == "reminder"
                else f"Policy question {case_id} has waited {waited} hours for HR ops ({why.replace('_', ' ')})"
            )
            queued = queue(
                session,
                Message(
                    recipients=recipients,
                    kind=f"kb_case_{step}",
                    subject=subject,
                    body=f"Open it on the console's Cases page (/console/cases/{case_id}) or with `hrops cases show {case_id}`.",
                    key=key,
                ),
            )
            if queued.queued:
                done.append(case_id)
                audit.append(
                    session,
                    audit.AuditEvent(
                        actor="system",
                        action=f"kb.case.{step}",
                        entity_type="kb_case",
                        entity_id=case_id,
                        details={"reason": row.reason, "hours_open": waited, "recipients": len(recipients)},
                        event_key=key,
                    ),
                    at=at,
                )
    return out


def _aware(at: datetime) -> datetime:
    """SQLite gives naive datetimes back (stored as UTC)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
