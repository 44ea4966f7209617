"""Append-only, hash-chained audit trail.

Each entry's hash covers the previous entry's hash and its own content, so an edited entry no
longer matches its hash and the entry after a deleted one no longer chains onto its predecessor
(`check_chain`, `hrops audit verify`). Rewriting every later hash to hide an edit changes the last
hash, which an anchor recorded earlier catches. Database triggers refuse UPDATE/DELETE.
Write entries in the same transaction as the change they describe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

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


def _body(at: datetime, event: AuditEvent) -> str:
    return _dumps({"at": at.isoformat(), **event.model_dump()})


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)


def _digest(prev_hash: str, at: datetime, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _body(at, event)).encode()).hexdigest()


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


ProblemKind = Literal["content_changed", "chain_broken", "anchor_missing"]


EVENT_FIELDS = tuple(AuditEvent.model_fields)  # each is a column of AuditEntry too


class ChainProblem(BaseModel):
    entry_id: int | None  # None: the problem is the log as a whole (an anchor no longer in it)
    problem: str
    kind: ProblemKind = "content_changed"


class ChainReport(BaseModel):
    """What a walk over the whole log found: `ok` when every entry matches its content and chain."""

    entries: int
    last_id: int | None
    last_hash: str  # GENESIS for an empty log; keep it elsewhere to prove later that nothing was cut off
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_chain(
    session: Session,
    *,
    anchor: str | None = None,
    progress: Callable[[int], None] | None = None,
    every: int = 5000,
) -> ChainReport:
    """Recompute every hash in order. An entry whose hash does not match its content was edited; an
    entry that does not chain onto the one before it follows a removed or rewritten entry.

    The chain alone cannot show that entries were cut off the end, or that someone rewrote every
    hash after an edit: `anchor` (a last hash recorded earlier, outside the database) must still be
    in the chain for that. `progress(n)` is called every `every` entries."""
    problems: list[ChainProblem] = []
    prev, prev_id, count, anchor_seen = GENESIS, 0, 0, anchor is None or anchor == GENESIS
    # Plain rows, not ORM objects and models: the walk is bound by this loop on large logs.
    columns = [AuditEntry.id, AuditEntry.at, AuditEntry.prev_hash, AuditEntry.hash]
    columns += [getattr(AuditEntry, name) for name in EVENT_FIELDS]
    rows = session.execute(select(*columns).order_by(AuditEntry.id).execution_options(yield_per=every))
    for entry in rows:
        content = {name: entry._mapping[name] for name in EVENT_FIELDS}
        body = _dumps({"at": _as_utc(entry.at).isoformat(), **content})
        if entry.prev_hash != prev:
            problems.append(
                ChainProblem(
                    entry_id=entry.id,
                    kind="chain_broken",
                    problem=(_missing(prev_id, entry.id) or "the entry before it was removed or rewritten")
                    + f" (it chains onto {entry.prev_hash[:12]}, the log has {prev[:12]} before it)",
                )
            )
        if hashlib.sha256((entry.prev_hash + body).encode()).hexdigest() != entry.hash:
            problems.append(ChainProblem(entry_id=entry.id, problem="content changed after it was written"))
        prev, prev_id, count = entry.hash, entry.id, count + 1
        anchor_seen = anchor_seen or entry.hash == anchor
        if progress is not None and count % every == 0:
            progress(count)
    if not anchor_seen:
        problems.append(
            ChainProblem(
                entry_id=None,
                kind="anchor_missing",
                problem=f"no entry has the anchor hash {anchor}: entries were cut off the end "
                "or the log was rewritten since that hash was recorded",
            )
        )
    if progress is not None:
        progress(count)
    return ChainReport(entries=count, last_id=prev_id or None, last_hash=prev, problems=problems)


def _missing(after: int, before: int) -> str:
    """The ids absent between two entries ('' when there are none)."""
    if before - after == 2:
        return f"entry {after + 1} is missing"
    return f"entries {after + 1}..{before - 1} are missing" if before - after > 2 else ""


def verify_chain(session: Session) -> list[ChainProblem]:
    """Recompute every hash in order; report each entry that does not match its content or chain."""
    return check_chain(session).problems


def hashed_body(entry: AuditEntry) -> dict[str, Any]:
    """The fields an entry's hash covers, as they were hashed: with its `prev_hash`,
    `hash == sha256(prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False))`."""
    event = AuditEvent.model_validate(entry, from_attributes=True)
    return json.loads(_body(_as_utc(entry.at), event))
