"""Who a chat account is, and which chat messages were taken in already.

A link maps (channel, the platform's user id) to a product username; the newest link of a person
is where their notifications go. A message id is taken in once: `first_time` says whether this
is the first delivery of it (platforms deliver again when an answer is slow).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tools.store.models import ChannelLink, ChannelMessage, User

CHANNEL_NAME = re.compile(r"^(slack|feishu|webhook:[a-z0-9][a-z0-9_-]{0,40})$")
# Platforms retry within minutes; a week of ids is plenty to recognise a repeat.
KEEP_SEEN = timedelta(days=7)


class LinkError(ValueError):
    """A link refused, with a message a person can act on."""


class Link(BaseModel):
    channel: str
    platform_id: str
    username: str
    linked_at: datetime
    linked_by: str


class Linked(BaseModel):
    link: Link
    replaced: str | None = None  # the username this account was linked to before


def check_channel(channel: str) -> str:
    name = channel.strip().lower()
    if not CHANNEL_NAME.match(name):
        raise LinkError(f"unknown channel {channel!r}: one of slack, feishu, webhook:<name>")
    return name


def _insert(session: Session):  # noqa: ANN202 - the dialect's insert()
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def link(session: Session, channel: str, platform_id: str, username: str, by: str) -> Linked:
    """Link a chat account to a user (again: moves it to the new user, and makes it their newest)."""
    channel, platform_id = check_channel(channel), platform_id.strip()
    if not platform_id:
        raise LinkError("the platform user id is empty")
    user = session.get(User, username)
    if user is None or not user.active:
        raise LinkError(f"no active user {username!r}")
    row = session.scalar(
        select(ChannelLink).where(ChannelLink.channel == channel, ChannelLink.platform_id == platform_id)
    )
    replaced = None
    now = datetime.now(UTC)
    if row is None:
        row = ChannelLink(
            channel=channel, platform_id=platform_id, username=username, linked_at=now, linked_by=by
        )
        session.add(row)
    else:
        replaced = row.username if row.username != username else None
        row.username, row.linked_at, row.linked_by = username, now, by
    session.flush()
    return Linked(link=Link.model_validate(row, from_attributes=True), replaced=replaced)


def unlink(session: Session, channel: str, platform_id: str) -> str | None:
    """Remove a link; the username it pointed to, or None when there was none."""
    row = session.scalar(
        select(ChannelLink).where(
            ChannelLink.channel == check_channel(channel), ChannelLink.platform_id == platform_id.strip()
        )
    )
    if row is None:
        return None
    session.delete(row)
    return row.username


def username_for(session: Session, channel: str, platform_id: str) -> str | None:
    """The active user this chat account is linked to, or None."""
    return session.scalar(
        select(ChannelLink.username)
        .join(User, User.username == ChannelLink.username)
        .where(ChannelLink.channel == channel, ChannelLink.platform_id == platform_id, User.active)
    )


def address_of(session: Session, username: str) -> Link | None:
    """Where a user's notifications go: their newest link."""
    row = session.scalar(
        select(ChannelLink)
        .where(ChannelLink.username == username)
        .order_by(ChannelLink.linked_at.desc(), ChannelLink.id.desc())
        .limit(1)
    )
    return Link.model_validate(row, from_attributes=True) if row else None


def all_links(session: Session, channel: str | None = None, username: str | None = None) -> list[Link]:
    query = select(ChannelLink).order_by(ChannelLink.channel, ChannelLink.username, ChannelLink.platform_id)
    if channel:
        query = query.where(ChannelLink.channel == check_channel(channel))
    if username:
        query = query.where(ChannelLink.username == username)
    return [Link.model_validate(r, from_attributes=True) for r in session.scalars(query)]


def first_time(session: Session, channel: str, message_id: str) -> bool:
    """Record the message id; True when it was not seen before. Forgets ids older than a week."""
    now = datetime.now(UTC)
    session.execute(delete(ChannelMessage).where(ChannelMessage.received_at < now - KEEP_SEEN))
    result = session.execute(
        _insert(session)(ChannelMessage)
        .values(channel=channel, message_id=message_id[:200], received_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "message_id"])
        .returning(ChannelMessage.id)  # rowcount is -1 for this insert on Postgres (psycopg)
    )
    return result.first() is not None
