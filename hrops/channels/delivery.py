"""Outbox delivery: each notification to its recipient's chat channel, once, with retries.

A round reads the due rows (undelivered, their turn come, recipient linked), and for each:
claims it (an UPDATE that only one deliverer can win, which also counts the attempt and moves
its next turn past a lease), sends it through the Sender of the recipient's channel, then marks
it delivered, or records the failure and when to try again (the backoff doubles, at most an
hour), or gives up after `delivery_max_attempts` keeping the last error. Rows of people with no
link wait in the outbox (`hrops notifications`, `hrops channels outbox`); rows for a channel that
is not configured wait too.

Runs as `hrops channels deliver [--once]` and inside `hrops worker` for the main queue. Logs
carry notification ids, channels and counts, never subjects, bodies or platform ids.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Protocol

import httpx
from pydantic import BaseModel

from hrops.channels.assistant_port import ChatOut, approval_buttons
from hrops.channels.feishu import FEISHU, FeishuApi
from hrops.channels.hub import SendFailed, chat_http_client
from hrops.channels.slack import SLACK, SlackApi
from hrops.channels.webhook import WebhookOut
from hrops.logging import get_logger
from hrops.settings import Settings
from tools.notify import outbox
from tools.notify.links import Link, address_of
from tools.store.db import session_scope

log = get_logger(__name__)

# A claimed row is not tried by anyone else for this long (a deliverer that died mid-send).
LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(hours=1)
APPROVAL_KINDS = {"approval_requested", "approval_reminder", "approval_escalated"}


class Sender(Protocol):
    async def send(self, to: str, subject: str, out: ChatOut, key: str) -> None:
        """Deliver to the platform account `to`; `key` identifies the notification. SendFailed
        (or any error) when the platform did not take it."""


class Round(BaseModel):
    sent: int = 0
    retrying: int = 0
    gave_up: int = 0
    waiting: int = 0  # the recipient's channel is not configured here
    taken: int = 0  # another deliverer claimed it first

    @property
    def busy(self) -> bool:
        return bool(self.sent or self.retrying or self.gave_up or self.taken)


def senders_for(settings: Settings, http: httpx.AsyncClient) -> dict[str, Sender]:
    """A Sender per configured channel."""
    senders: dict[str, Sender] = {}
    if settings.slack_bot_token:
        senders[SLACK] = SlackApi(http, settings.slack_bot_token.get_secret_value())
    if settings.feishu_app_id and settings.feishu_app_secret:
        senders[FEISHU] = FeishuApi(
            http,
            settings.feishu_base_url,
            settings.feishu_app_id,
            settings.feishu_app_secret.get_secret_value(),
        )
    for name, url in settings.webhook_urls.items():
        secret = settings.webhook_secrets.get(name)
        if secret is None:
            log.warning("webhook has a URL but no secret: not delivered to", channel=f"webhook:{name}")
            continue
        senders[f"webhook:{name}"] = WebhookOut(http, url.get_secret_value(), secret.get_secret_value())
    return senders


def message_for(row: outbox.Outgoing) -> ChatOut:
    """The chat form of a notification: approval messages carry Approve/Reject buttons."""
    buttons = approval_buttons(row.request_id) if row.kind in APPROVAL_KINDS and row.request_id else []
    return ChatOut(text=row.body, buttons=buttons)


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed send: the base, doubled each time, at most an hour."""
    return min(timedelta(seconds=settings.delivery_backoff * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


class Deliverer:
    def __init__(self, settings: Settings, senders: dict[str, Sender]) -> None:
        self.settings, self.senders = settings, senders

    def _due(self, now: datetime, limit: int) -> list[tuple[outbox.Outgoing, Link]]:
        with session_scope(self.settings.db_url) as s:
            rows = outbox.due(s, now, self.settings.delivery_max_attempts, limit)
            found = [(row, address_of(s, row.recipient)) for row in rows]
        return [(row, link) for row, link in found if link is not None]

    def _claim(self, row: outbox.Outgoing, channel: str, now: datetime) -> bool:
        with session_scope(self.settings.db_url, write=True) as s:
            return outbox.claim(s, row, channel, now, LEASE, self.settings.delivery_max_attempts)

    def _settle(
        self, notification_id: int, now: datetime, error: str | None, retry_at: datetime | None
    ) -> None:
        with session_scope(self.settings.db_url, write=True) as s:
            if error is None:
                outbox.delivered(s, notification_id, now)
            else:
                outbox.failed(s, notification_id, error, retry_at)

    async def round(self, now: datetime | None = None, limit: int = 100) -> Round:
        """One pass over what is due now."""
        now = now or datetime.now(UTC)
        done = Round()
        for row, link in await asyncio.to_thread(self._due, now, limit):
            sender = self.senders.get(link.channel)
            if sender is None:
                done.waiting += 1
                continue
            if not await asyncio.to_thread(self._claim, row, link.channel, now):
                done.taken += 1
                continue
            error = await self._send(sender, row, link)
            attempts = row.attempts + 1
            retry_at = None
            if error is None:
                done.sent += 1
            elif attempts < self.settings.delivery_max_attempts:
                retry_at = now + backoff(self.settings, attempts)
                done.retrying += 1
            else:
                done.gave_up += 1
                log.warning(
                    "notification given up", notification_id=row.id, channel=link.channel, attempts=attempts
                )
            await asyncio.to_thread(self._settle, row.id, now, error, retry_at)
        if done.busy or done.waiting:
            log.info("delivery round", **done.model_dump())
        return done

    async def _send(self, sender: Sender, row: outbox.Outgoing, link: Link) -> str | None:
        """None when sent; else a short error for the row (a code, never the text)."""
        try:
            await sender.send(link.platform_id, row.subject, message_for(row), f"hrops-notification-{row.id}")
        except SendFailed as e:
            error = str(e)
        except Exception as e:  # a bug or an unexpected answer: keep going with the others
            log.exception("notification send crashed", notification_id=row.id, channel=link.channel)
            error = type(e).__name__
        else:
            log.info("notification delivered", notification_id=row.id, channel=link.channel, kind=row.kind)
            return None
        log.info("notification send failed", notification_id=row.id, channel=link.channel, error=error)
        return error

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds every `delivery_interval` seconds until `stop` is set; a failing round is logged
        and the next one tries again."""
        while not stop.is_set():
            try:
                await self.round()
            except Exception:
                log.exception("delivery round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.delivery_interval)


def configured(settings: Settings) -> bool:
    return bool(settings.slack_bot_token or settings.feishu_app_id or settings.webhook_urls)


@contextlib.asynccontextmanager
async def in_background(settings: Settings, http: httpx.AsyncClient | None = None) -> AsyncIterator[None]:
    """Deliver while the block runs (the worker process); nothing when no channel can send."""
    if not configured(settings):
        yield
        return
    client = http or chat_http_client()
    stop = asyncio.Event()
    senders = senders_for(settings, client)
    task = asyncio.create_task(Deliverer(settings, senders).run(stop))
    log.info("outbox delivery started", channels=sorted(senders))
    try:
        yield
    finally:
        stop.set()
        await task
        if http is None:
            await client.aclose()
