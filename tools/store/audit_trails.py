"""Reading the audit log for people: one request's trail (chat message -> submission -> approvals
-> tool calls and record changes, with the model calls between) and everything done to one
employee's data. Every row keeps its chain position and hashes, so an auditor can recompute each
entry's hash from the row alone (`HOW_TO_VERIFY`)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tools.store import audit
from tools.store.models import REQUEST_PREFIX, AuditEntry, Employee, RequestRecord, User

DECISIONS = {
    "request.approved": "approve",
    "request.rejected": "reject",
    "request.approved_with_edits": "edit",
}
HOW_TO_VERIFY = (
    "each entry: hash == sha256(prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False)) where "
    "body holds at, actor, action, entity_type, entity_id, request_id, workflow_id, tool, details and "
    "event_key exactly as listed; the whole log: `hrops audit verify --anchor <chain.last_hash>`"
)


class TrailEntry(BaseModel):
    """One audit entry as a reader follows it: its place in the chain, which link it is, what it says."""

    position: int  # the entry's id: its place in the hash chain
    step: str  # chat message | submission | model call | approval | record change | legacy push | ...
    at: str  # ISO 8601 UTC, exactly as hashed
    actor: str
    action: str
    entity_type: str | None
    entity_id: str | None
    request_id: str | None
    workflow_id: str | None
    tool: str | None
    details: dict[str, Any]
    event_key: str | None
    prev_hash: str
    hash: str


class RequestInfo(BaseModel):
    request_id: str
    kind: str | None = None
    requested_by: str | None = None
    created_at: datetime | None = None
    workflow_id: str | None = None


class ApprovalInfo(BaseModel):
    request_id: str
    position: int
    approver: str
    verdict: str  # approve | reject | edit (approved with edits)
    step: str | None
    rule: str | None
    on_behalf_of: str | None
    edited_fields: list[str]
    decided_at: str | None


class ChainHead(BaseModel):
    """The log as it stood at the export: keep `last_hash` to check later nothing was cut off."""

    entries: int
    last_id: int | None
    last_hash: str


class ExportSummary(BaseModel):
    entries: int
    requests: int
    approvals: int
    first_at: str | None
    last_at: str | None
    per_action: dict[str, int]


class EmployeeExport(BaseModel):
    employee_id: str
    exported_at: datetime
    exported_by: str
    summary: ExportSummary
    chain: ChainHead
    how_to_verify: str = HOW_TO_VERIFY
    requests: list[RequestInfo]
    approvals: list[ApprovalInfo]
    entries: list[TrailEntry]


class UnknownEmployee(LookupError):
    pass


def step_of(entry: AuditEntry) -> str:
    """Which link of chat message -> request -> approval -> tool call -> record change this entry is."""
    action = entry.action
    if action.startswith("chat."):
        return "chat message"
    if action == "request.submitted":
        return "submission"
    if action in DECISIONS:
        return "approval"
    if action == "model.call":
        return "model call"
    if action.startswith("legacy."):
        return "legacy push"
    if entry.tool:
        # Tools audit their writes in the same transaction as the write: the call is the change.
        return "record change" if entry.entity_type == "employee" else "tool call"
    if action.startswith("request."):
        return "request " + action.removeprefix("request.")
    return "other"


def trail_entry(entry: AuditEntry) -> TrailEntry:
    body = audit.hashed_body(entry)
    return TrailEntry(
        position=entry.id, step=step_of(entry), prev_hash=entry.prev_hash, hash=entry.hash, **body
    )


def _in_time_order(session: Session, *where: Any) -> list[AuditEntry]:
    # `at` is when it happened (a chat message: when it arrived, before the request it started had
    # a number); the chain position breaks ties.
    return list(session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.at, AuditEntry.id)))


def normal_request_id(request_id: str) -> str:
    raw = request_id.strip().upper()
    return raw if raw.startswith(REQUEST_PREFIX) else f"{REQUEST_PREFIX}{raw}"


def request_trail(session: Session, request_id: str) -> list[TrailEntry]:
    """Every entry of one request, in time order (empty when the log knows no such request)."""
    return [
        trail_entry(e)
        for e in _in_time_order(session, AuditEntry.request_id == normal_request_id(request_id))
    ]


def chain_head(session: Session) -> ChainHead:
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return ChainHead(
        entries=count, last_id=last[0] if last else None, last_hash=last[1] if last else audit.GENESIS
    )


def employee_export(session: Session, employee_id: str, *, exported_by: str, now: datetime) -> EmployeeExport:
    """Every entry about one employee: about them, their user accounts, and every request about them
    (with the model calls, approvals and pushes of those requests), in time order."""
    eid = employee_id.strip().upper()
    about = AuditEntry.entity_id == eid
    if (
        session.get(Employee, eid) is None
        and session.scalar(select(AuditEntry.id).where(about).limit(1)) is None
    ):
        raise UnknownEmployee(f"no employee {eid} in the HR store; employee ids look like E100123")
    records = {
        r.label: r
        for r in session.scalars(
            select(RequestRecord)
            .where(RequestRecord.subject_employee_id == eid)
            .order_by(RequestRecord.number)
        )
    }
    # Requests that name them only in their entries (an onboarding that created their record).
    named = set(
        session.scalars(select(AuditEntry.request_id).where(about, AuditEntry.request_id.is_not(None)))
    )
    for label in sorted(named - records.keys()):
        number = label.removeprefix(REQUEST_PREFIX)
        if number.isdigit() and (row := session.get(RequestRecord, int(number))) is not None:
            records[label] = row
    request_ids = sorted(records.keys() | named, key=_request_order)
    usernames = list(session.scalars(select(User.username).where(User.employee_id == eid)))
    entries = _in_time_order(
        session,
        or_(
            about,
            AuditEntry.request_id.in_(request_ids),
            (AuditEntry.entity_type == "user") & AuditEntry.entity_id.in_(usernames),
        ),
    )
    rows = [trail_entry(e) for e in entries]
    approvals = [_approval(row) for row in rows if row.action in DECISIONS]
    return EmployeeExport(
        employee_id=eid,
        exported_at=now,
        exported_by=exported_by,
        summary=ExportSummary(
            entries=len(rows),
            requests=len(request_ids),
            approvals=len(approvals),
            first_at=rows[0].at if rows else None,
            last_at=rows[-1].at if rows else None,
            per_action=dict(sorted(Counter(r.action for r in rows).items())),
        ),
        chain=chain_head(session),
        requests=[_request(rid, records.get(rid)) for rid in request_ids],
        approvals=approvals,
        entries=rows,
    )


def _request_order(label: str) -> tuple[int, str]:
    number = label.removeprefix(REQUEST_PREFIX)
    return (int(number), label) if number.isdigit() else (1 << 62, label)


def _request(request_id: str, row: RequestRecord | None) -> RequestInfo:
    if row is None:
        return RequestInfo(request_id=request_id)
    return RequestInfo(
        request_id=request_id,
        kind=row.kind,
        requested_by=row.requested_by,
        created_at=row.created_at,
        workflow_id=row.workflow_id,
    )


def _approval(row: TrailEntry) -> ApprovalInfo:
    d = row.details
    return ApprovalInfo(
        request_id=row.request_id or "",
        position=row.position,
        approver=row.actor,
        verdict=DECISIONS[row.action],
        step=d.get("step"),
        rule=d.get("rule"),
        on_behalf_of=d.get("on_behalf_of"),
        edited_fields=list(d.get("edited_fields") or []),
        decided_at=d.get("decided_at"),
    )
