"""The notification outbox: queue a message for people, idempotently; list what is waiting.

Workflows queue through the `notify.queue` activity. Delivery to chat or e-mail reads the same
table (the chat front's notifier); until then `hrops notifications --as USER` shows a person's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tools.store.models import Notification


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
        insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["event_key"])
    )
    return Queued(queued=result.rowcount or 0)


def for_user(session: Session, username: str, limit: int = 50) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.recipient == username)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )
