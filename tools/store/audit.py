"""Append-only, hash-chained audit trail.

Each entry's hash covers the previous entry's hash and its own content, so editing or deleting
any entry breaks every hash after it (`verify_chain`). Database triggers refuse UPDATE/DELETE.
Write entries in the same transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from tools.store.models import AuditEntry

GENESIS = "0" * 64


class AuditEvent(BaseModel):
    """What happened; `details` must hold ids, field names and counts, never personal values."""

    actor: str
    action: str
    entity_type: str | None = None
    entity_id: str | None = None
    request_id: str | None = None
    workflow_id: str | None = None
    tool: str | None = None
    details: dict[str, Any] = {}
    event_key: str | None = None  # makes a repeated append (a retried activity) a no-op


def _digest(prev_hash: str, at: datetime, event: AuditEvent) -> str:
    body = json.dumps(
        {"at": at.isoformat(), **event.model_dump()}, sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _as_utc(at: datetime) -> datetime:
    # SQLite hands timestamps back without tzinfo; they were written as UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _last_hash(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so two transactions never chain onto the same previous entry.
        session.execute(text("SELECT pg_advisory_xact_lock(7240031)"))
    return session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS


def append(session: Session, event: AuditEvent, *, at: datetime | None = None) -> AuditEntry:
    if event.event_key is not None and (
        done := session.scalar(select(AuditEntry).where(AuditEntry.event_key == event.event_key))
    ):
        return done
    prev = _last_hash(session)
    at = _as_utc(at or datetime.now(UTC))
    entry = AuditEntry(at=at, prev_hash=prev, hash=_digest(prev, at, event), **event.model_dump())
    session.add(entry)
    session.flush()
    return entry


def append_many(session: Session, events: list[AuditEvent], *, at: datetime | None = None) -> int:
    """Chain many entries with one lookup and one bulk insert (imports, batch jobs)."""
    if not events:
        return 0
    prev = _last_hash(session)
    at = _as_utc(at or datetime.now(UTC))
    rows = []
    for event in events:
        digest = _digest(prev, at, event)
        rows.append({"at": at, "prev_hash": prev, "hash": digest, **event.model_dump()})
        prev = digest
    session.execute(insert(AuditEntry), rows)
    return len(rows)


class ChainProblem(BaseModel):
    entry_id: int
    problem: str


def verify_chain(session: Session) -> list[ChainProblem]:
    """Recompute every hash in order; report each entry that does not match its content or chain."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(5000):
        event = AuditEvent.model_validate(entry, from_attributes=True)
        if entry.prev_hash != prev:
            problems.append(ChainProblem(entry_id=entry.id, problem="previous entry missing or changed"))
        elif _digest(prev, _as_utc(entry.at), event) != entry.hash:
            problems.append(ChainProblem(entry_id=entry.id, problem="content changed after it was written"))
        prev = entry.hash
    return problems
