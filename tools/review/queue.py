"""The review queue in the HR store: sampled model outputs in, reviewers' verdicts out.

`offer_model_output` is the hook the model wrapper (agents/models.py) calls after every model call;
`offer` applies the sampling rules and keeps one row per output (`source`, the call's receipt id).
Reviewers are HR ops and admins; nobody reviews the output of a request they asked for or that is
about themselves. A decision is final: the row changes only while it is pending, in one statement,
so two reviewers deciding at once get one decision and one clear refusal. Every queued item and every
decision has its audit entry (ids, topic, risk and field names; never the prompt, output or reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hrops.clock import now
from tools.review import sampling
from tools.review.models import (
    LABEL_PREFIX,
    Decision,
    Output,
    ReviewItem,
    ReviewRules,
    ReviewStatus,
    Risk,
    Verdict,
)
from tools.store import audit
from tools.store.identity import Principal
from tools.store.models import REQUEST_PREFIX, OutputReview, RequestRecord, Role

REVIEWERS = frozenset({Role.HR_OPS, Role.ADMIN})

# Set while evaluation cases are re-run: those model calls are checks, not outputs to review.
_replaying: ContextVar[bool] = ContextVar("review_replaying", default=False)


class ReviewError(Exception):
    """A review refused, with a message a person can act on."""


class NotAReviewer(ReviewError):
    pass


class NoSuchItem(ReviewError):
    pass


class ConflictOfInterest(ReviewError):
    pass


class AlreadyDecided(ReviewError):
    pass


class BadCorrection(ReviewError):
    pass


@contextmanager
def replaying() -> Iterator[None]:
    """Model calls inside this block are not offered for review (evaluation re-runs)."""
    token = _replaying.set(True)
    try:
        yield
    finally:
        _replaying.reset(token)


def parse_label(text: str | int) -> int:
    raw = str(text).strip().upper().removeprefix(LABEL_PREFIX)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # '²' is a digit; 10**19 overflows a column
        raise NoSuchItem(
            f"{text!r} is not a review id; they look like {LABEL_PREFIX}12 (`hrops review list`)"
        )
    return int(raw)


def _item(row: OutputReview) -> ReviewItem:
    return ReviewItem.model_validate(row)


def _as_output(output: Any) -> Output:
    if isinstance(output, BaseModel):
        return output.model_dump(mode="json")
    if isinstance(output, dict | str):
        return output
    raise TypeError(f"a model output is a JSON object or text, not {type(output).__name__}")


def _request(session: Session, request_id: str | None) -> RequestRecord | None:
    raw = (request_id or "").upper().removeprefix(REQUEST_PREFIX)
    return session.get(RequestRecord, int(raw)) if raw.isdigit() else None


def offer(
    session: Session,
    *,
    topic: str,
    risk: Risk,
    source: str,
    request_id: str | None,
    workflow_id: str | None,
    agent: str,
    prompt: str,
    output: Output | BaseModel,
    endpoint: str | None = None,
    rules: ReviewRules | None = None,
) -> ReviewItem | None:
    """Queue the output for review if the rules sample it; None when they do not. Offering the same
    `source` again returns the row already queued (a retried activity, a second worker)."""
    if done := session.scalar(select(OutputReview).where(OutputReview.source == source)):
        return _item(done)
    picked = sampling.sample(rules or sampling.load(), topic=topic, risk=risk, source=source)
    if not picked.sampled or picked.rule is None:
        return None
    record = _request(session, request_id)
    row = OutputReview(
        source=source,
        topic=topic,
        risk=risk.value,
        rule=picked.rule,
        agent=agent,
        request_id=record.label if record else request_id,
        workflow_id=workflow_id,
        requested_by=record.requested_by if record else None,
        subject_employee_id=record.subject_employee_id if record else None,
        endpoint=endpoint,
        prompt=prompt,
        output=_as_output(output),
        created_at=now(),
        status=ReviewStatus.PENDING.value,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another worker queued the same output a moment ago
        return _item(session.scalars(select(OutputReview).where(OutputReview.source == source)).one())
    audit.append(
        session,
        audit.AuditEvent(
            actor=f"agent:{agent}",
            action="review.queued",
            entity_type="review",
            entity_id=f"{LABEL_PREFIX}{row.id}",
            request_id=row.request_id,
            workflow_id=workflow_id,
            details={"topic": topic, "risk": risk.value, "rule": picked.rule, "rate": picked.rate},
            event_key=f"review.queued:{source}",
        ),
    )
    return _item(row)


def offer_model_output(
    session: Session,
    *,
    agent: str,
    request_id: str | None,
    workflow_id: str | None,
    source: str,
    prompt: str,
    output: Output | BaseModel,
    endpoint: str | None = None,
) -> ReviewItem | None:
    """The model wrapper's hook, called once per model call in the transaction of its receipt.
    The topic is the agent; the risk is the topic's, or high when the request or the text is about pay."""
    if _replaying.get():
        return None
    rules = sampling.load()
    out = _as_output(output)
    record = _request(session, request_id)
    text = out if isinstance(out, str) else str(out)
    risk = sampling.risk_of(rules, agent, record.kind if record else None, prompt, text)
    return offer(
        session,
        topic=agent,
        risk=risk,
        source=source,
        request_id=request_id,
        workflow_id=workflow_id,
        agent=agent,
        prompt=prompt,
        output=out,
        endpoint=endpoint,
        rules=rules,
    )


def may_review(who: Principal) -> bool:
    return who.has(*REVIEWERS)


def require_reviewer(who: Principal) -> None:
    if not may_review(who):
        raise NotAReviewer(
            f"{who.username} may not review model output: reviewers are HR ops and admins "
            "(a role granted in user_roles)"
        )


def list_items(
    session: Session,
    who: Principal,
    *,
    status: ReviewStatus | None = ReviewStatus.PENDING,
    topic: str | None = None,
    limit: int = 100,
) -> list[ReviewItem]:
    """The queue, oldest first (None: every status)."""
    require_reviewer(who)
    query = select(OutputReview).order_by(OutputReview.id).limit(limit)
    if status is not None:
        query = query.where(OutputReview.status == status.value)
    if topic:
        query = query.where(OutputReview.topic == topic)
    return [_item(r) for r in session.scalars(query)]


def get(session: Session, who: Principal, item_id: int | str) -> ReviewItem:
    require_reviewer(who)
    number = parse_label(item_id)
    row = session.get(OutputReview, number)
    if row is None:
        raise NoSuchItem(f"no review {LABEL_PREFIX}{number}; `hrops review list` shows the queue")
    return _item(row)


def conflict(who: Principal, item: ReviewItem) -> str | None:
    """Why `who` may not decide this item (None: they may)."""
    about = item.request_id or "its request"
    if item.requested_by and item.requested_by == who.username:
        return f"{who.username} requested {about}: another reviewer decides on its model output"
    if item.subject_employee_id and item.subject_employee_id == who.employee_id:
        return f"{about} is about {who.username}: another reviewer decides on its model output"
    return None


def _json_kind(value: Any) -> str:
    return {
        bool: "true/false",
        int: "number",
        float: "number",
        str: "text",
        list: "list",
        dict: "object",
    }.get(type(value), type(value).__name__)


def corrected_output(output: Output, correction: Output) -> tuple[Output, list[str]]:
    """The whole output as corrected, and the fields that changed (["text"] for text). A JSON
    correction names only the fields it changes, each with a value of the field's own kind."""
    if isinstance(output, str):
        if not isinstance(correction, str):
            raise BadCorrection("this output is text: give the corrected text, not a JSON object")
        if correction.strip() == output.strip():
            raise BadCorrection("the correction is the output as written: approve it instead")
        return correction, ["text"]
    if not isinstance(correction, dict):
        raise BadCorrection(
            f"this output is a JSON object with fields {', '.join(output)}: give the fields to change, "
            'e.g. {"en": "..."}'
        )
    if unknown := [k for k in correction if k not in output]:
        raise BadCorrection(f"the output has no field {', '.join(unknown)}; its fields: {', '.join(output)}")
    for key, value in correction.items():
        before = output[key]
        if value is not None and before is not None and _json_kind(value) != _json_kind(before):
            raise BadCorrection(
                f"{key} is {_json_kind(before)} in the output; the correction gives {_json_kind(value)}"
            )
    changed = [k for k, v in correction.items() if output[k] != v]
    if not changed:
        raise BadCorrection("the correction is the output as written: approve it instead")
    return {**output, **correction}, changed


def decide(session: Session, who: Principal, item_id: int | str, decision: Decision) -> ReviewItem:
    """Approve or correct one pending item; audited in the same transaction."""
    item = get(session, who, item_id)
    if why := conflict(who, item):
        raise ConflictOfInterest(why)
    _refuse_if_decided(item)
    correction, changed = None, []
    if decision.verdict is Verdict.CORRECT:
        assert decision.correction is not None  # Decision checks it
        correction, changed = corrected_output(item.output, decision.correction)
    status = ReviewStatus.APPROVED if decision.verdict is Verdict.APPROVE else ReviewStatus.CORRECTED
    at = now()
    done = session.execute(
        update(OutputReview)
        .where(OutputReview.id == item.id, OutputReview.status == ReviewStatus.PENDING.value)
        .values(
            status=status.value,
            decided_by=who.username,
            decided_at=at,
            reason=(decision.reason or "").strip() or None,
            correction=correction,
        )
    )
    if done.rowcount != 1:  # another reviewer decided between the read and this update
        session.expire_all()
        _refuse_if_decided(_item(session.get(OutputReview, item.id)))
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action=f"review.{status.value}",
            entity_type="review",
            entity_id=item.label,
            request_id=item.request_id,
            workflow_id=item.workflow_id,
            details={"topic": item.topic, "risk": item.risk.value, "agent": item.agent, "fields": changed},
        ),
        at=at,
    )
    session.expire_all()
    return _item(session.get(OutputReview, item.id))


def _refuse_if_decided(item: ReviewItem) -> None:
    if item.status is not ReviewStatus.PENDING:
        when = f" on {item.decided_at:%Y-%m-%d %H:%M} UTC" if item.decided_at else ""
        raise AlreadyDecided(
            f"{item.label} was {item.status.value} by {item.decided_by}{when}; a decision is final"
        )
