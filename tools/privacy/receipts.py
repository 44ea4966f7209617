"""Egress receipts: one per model call, saying what left the machine, where, and what was masked.

Written in the same transaction as the call's audit entry (`model.call`, which names the receipt).
With the offline model the receipt says so: endpoint `local`, nothing sent, zero bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.store import audit
from tools.store.models import ModelReceipt


class Receipt(BaseModel):
    """What one model call sent. `sent_text` is what the endpoint received, word for word."""

    id: int | None = None
    at: datetime
    agent: str
    model: str
    endpoint: str
    egress: bool
    request_id: str | None = None
    workflow_id: str | None = None
    allowed: list[str] = []  # classes the endpoint's policy lets through
    masked: dict[str, int] = {}  # class -> distinct values replaced by placeholders
    sent: dict[str, int] = {}  # class -> distinct classified values sent because the policy allows them
    bytes_sent: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    prompt_sha256: str
    sent_text: str | None = None

    @property
    def summary(self) -> str:
        if not self.egress:
            return "nothing left the machine (offline model)"
        masked = counted(self.masked) or "nothing"
        sent = counted(self.sent) or "no classified values"
        return f"{self.bytes_sent} bytes to {self.endpoint}: masked {masked}; sent {sent}"


def counted(counts: dict[str, int]) -> str:
    """Class counts as words: '1 identity, 3 personal' ('' for none)."""
    return ", ".join(f"{n} {c}" for c, n in sorted(counts.items()))


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def record(session: Session, receipt: Receipt) -> ModelReceipt:
    row = ModelReceipt(**receipt.model_dump(exclude={"id"}))
    session.add(row)
    session.flush()
    return row


def record_call(
    session: Session,
    *,
    agent: str,
    model: str,
    endpoint: str,
    egress: bool,
    text: str,
    allowed: frozenset[str],
    masked: dict[str, int],
    sent: dict[str, int],
    input_tokens: int | None,
    output_tokens: int | None,
    request_id: str | None = None,
    workflow_id: str | None = None,
    details: dict | None = None,
) -> ModelReceipt:
    """One model call's receipt (`text` is what the endpoint received) and its `model.call` audit
    entry naming it, in the caller's transaction; `details` adds to the audit entry's."""
    row = record(
        session,
        Receipt(
            at=datetime.now(UTC),
            agent=agent,
            model=model,
            endpoint=endpoint,
            egress=egress,
            request_id=request_id,
            workflow_id=workflow_id,
            allowed=sorted(allowed) if egress else [],
            masked=dict(masked),
            sent=dict(sent),
            bytes_sent=len(text.encode()) if egress else 0,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            prompt_sha256=fingerprint(text),
            sent_text=text if egress else None,
        ),
    )
    audit.append(
        session,
        audit.AuditEvent(
            actor=f"agent:{agent}",
            action="model.call",
            workflow_id=workflow_id,
            request_id=request_id,
            entity_type="model_receipt",
            entity_id=str(row.id),
            details={
                "model": model,
                "endpoint": endpoint,
                "egress": egress,
                "bytes_sent": row.bytes_sent,
                "masked": row.masked,
                "sent": row.sent,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                **(details or {}),
            },
        ),
    )
    return row


def _view(row: ModelReceipt) -> Receipt:
    r = Receipt.model_validate(row, from_attributes=True)
    return r.model_copy(update={"at": row.at.replace(tzinfo=UTC) if row.at.tzinfo is None else row.at})


def by_id(session: Session, receipt_id: int) -> Receipt | None:
    row = session.get(ModelReceipt, receipt_id)
    return _view(row) if row else None


def for_request(session: Session, request_id: str) -> list[Receipt]:
    rows = session.scalars(
        select(ModelReceipt).where(ModelReceipt.request_id == request_id).order_by(ModelReceipt.id)
    )
    return [_view(r) for r in rows]


def listed(session: Session, *, since: datetime | None = None, egress_only: bool = False) -> list[Receipt]:
    query = select(ModelReceipt).order_by(ModelReceipt.id)
    if since:
        query = query.where(ModelReceipt.at >= since)
    if egress_only:
        query = query.where(ModelReceipt.egress.is_(True))
    return [_view(r) for r in session.scalars(query)]


COLUMNS = [
    "id",
    "at",
    "agent",
    "model",
    "endpoint",
    "egress",
    "request_id",
    "workflow_id",
    "allowed",
    "masked",
    "sent",
    "bytes_sent",
    "input_tokens",
    "output_tokens",
    "prompt_sha256",
]


def to_csv(receipts: list[Receipt]) -> str:
    """One row per call, classes as JSON; the text sent is left out (see the JSON export)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for r in receipts:
        row = r.model_dump(mode="json")
        writer.writerow(
            [
                json.dumps(row[c], sort_keys=True) if isinstance(row[c], (dict, list)) else row[c]
                for c in COLUMNS
            ]
        )
    return out.getvalue()


def to_json(receipts: list[Receipt]) -> str:
    return json.dumps([r.model_dump(mode="json") for r in receipts], ensure_ascii=False, indent=2)
