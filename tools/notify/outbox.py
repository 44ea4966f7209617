"""The notification outbox: queue a message for people, idempotently; list what is waiting; the
store side of delivery (what is due, claim, delivered, failed).

Workflows queue through the `notify.queue` activity. The deliverer (`hrops channels deliver`,
hrops/channels/delivery.py) sends each row to its recipient's linked chat channel; a row whose
recipient has no link stays here, and `hrops notifications --as USER` shows a person's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tools.store.models import ChannelLink, Notification


class Message(BaseModel):
    """One message to several people. `key` identifies the event: queuing it again adds nothing."""

    recipients: list[str]
    kind: str = Field(description="approval_requested, approval_reminder, approval_escalated, ...")
    request_id: str | None = None
    subject: str
    body: str
    key: str


class Queued(BaseModel):
    queued: int  # new rows (0 when this event was queued before)


def _event_key(key: str, recipient: str) -> str:
    return f"{key}:{recipient}"


def was_queued(session: Session, key: str, recipient: str) -> bool:
    """Whether the event `key` was queued for `recipient` already (the work of a second run can be skipped)."""
    return (
        session.scalar(select(Notification.id).where(Notification.event_key == _event_key(key, recipient)))
        is not None
    )


def queue(session: Session, message: Message) -> Queued:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = datetime.now(UTC)
    rows = [
        {
            "recipient": who,
            "kind": message.kind,
            "request_id": message.request_id,
            "subject": message.subject,
            "body": message.body,
            "created_at": now,
            "event_key": _event_key(message.key, who),
        }
        for who in dict.fromkeys(message.recipients)  # once each, in order
    ]
    if not rows:
        return Queued(queued=0)
    result = session.execute(
        insert(Notification)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(Notification.id)  # rowcount is -1 for this insert on Postgres (psycopg)
    )
    return Queued(queued=len(result.all()))


def for_user(session: Session, username: str, limit: int = 50) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient == username)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


class Outgoing(BaseModel):
    """A notification on its way out (as read before the claim)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    recipient: str
    kind: str
    request_id: str | None
    subject: str
    body: str
    attempts: int


def _undelivered(max_attempts: int, now: datetime):  # noqa: ANN202 - a SQL condition
    return (
        Notification.delivered_at.is_(None),
        Notification.attempts < max_attempts,
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
    )


def due(session: Session, now: datetime, max_attempts: int, limit: int = 100) -> list[Outgoing]:
    """Undelivered rows whose turn has come, oldest first; only for recipients with a chat link
    (the others wait in the outbox until they are linked)."""
    linked = exists().where(ChannelLink.username == Notification.recipient)
    rows = session.scalars(
        select(Notification)
        .where(*_undelivered(max_attempts, now), linked)
        .order_by(Notification.id)
        .limit(limit)
    )
    return [Outgoing.model_validate(r) for r in rows]


def claim(
    session: Session, row: Outgoing, channel: str, now: datetime, lease: timedelta, max_attempts: int
) -> bool:
    """Take the row for one send: count the attempt and move its next turn past the lease. Only
    one deliverer's update matches (the row is unchanged since it was read); False: someone else
    has it, or it is done."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == row.id,
            Notification.attempts == row.attempts,
            *_undelivered(max_attempts, now),
        )
        .values(attempts=Notification.attempts + 1, next_attempt_at=now + lease, channel=channel)
    )
    return result.rowcount == 1


def delivered(session: Session, notification_id: int, now: datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(delivered_at=now, next_attempt_at=None, last_error=None)
    )


def failed(session: Session, notification_id: int, error: str, retry_at: datetime | None) -> None:
    """Record a failed send; `retry_at` None: given up (the error stays for `hrops channels outbox`)."""
    session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(last_error=error[:500], next_attempt_at=retry_at)
    )


def undelivered(session: Session, limit: int = 50) -> list[Notification]:
    """Rows not delivered yet (waiting, retrying or given up), oldest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.delivered_at.is_(None))
            .order_by(Notification.id)
            .limit(limit)
        )
    )
