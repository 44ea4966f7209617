"""What every channel does the same way: take a message in once, find who sent it, ask the
responder, record an Approve/Reject click as the linked user.

A platform module (slack, feishu, webhook) checks the request is genuine and turns it into calls
here; the hub never sees a platform's format. Logs carry channel, message ids, usernames, request
ids and counts, never message text.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from hrops.channels.assistant_port import ChatIn, ChatOut, Responder, current
from hrops.logging import get_logger
from hrops.settings import Settings
from tools.notify import links
from tools.store.db import session_scope
from workflows.approvals import Verdict

log = get_logger(__name__)

# (username, request id, verdict, reason) -> a confirmation; raises DecisionRefused with the
# workflow's own words when the decision is not accepted.
DecideFn = Callable[[str, str, Verdict, str | None], Awaitable[str]]

HOW_TO_LINK = (
    "Hello! I don't know who you are on {platform} yet, so I can't do anything for you. Ask HR ops "
    "to link your account with `hrops channels link {channel} {platform_id} <your HR Ops username>`, "
    "then write again."
)
REASON_NEEDED = "A rejection needs a reason: type it in the reason box, then press Reject."
UNSURE = (
    "Sorry, something went wrong on my side: your decision may not have been recorded. "
    "Check with `hrops requests show {request_id}` before trying again."
)
SORRY = "Sorry, something went wrong on my side and I could not answer. Please try again in a moment."
PLATFORM_NAMES = {"slack": "Slack", "feishu": "Feishu"}


class DecisionRefused(Exception):
    """The decision was not recorded; the text says why (the approval workflow's refusal)."""


class SendFailed(Exception):
    """A platform did not take a message. The text is a short code for the outbox's `last_error`
    (`http 500`, `slack: channel_not_found`), never the message."""


async def post_json(
    http: httpx.AsyncClient,
    url: str,
    *,
    json: Any = None,
    content: bytes | None = None,
    headers: dict[str, str],
) -> httpx.Response:
    """POST and insist on a 2xx answer; anything else is a SendFailed."""
    try:
        resp = await http.post(url, json=json, content=content, headers=headers)
    except httpx.HTTPError as e:
        raise SendFailed(f"{type(e).__name__}") from None
    if not resp.is_success:
        raise SendFailed(f"http {resp.status_code}")
    return resp


def later(tasks: Any, work: Awaitable[None], what: str) -> None:
    """Run `work` after the HTTP answer has gone back (a Starlette background task): platforms
    want an answer within seconds. A failure is logged, never raised into the server."""

    async def guarded() -> None:
        try:
            await work
        except Exception:
            log.exception(f"{what} failed")

    tasks.add_task(guarded)


def not_linked(channel: str, platform_id: str) -> str:
    platform = PLATFORM_NAMES.get(channel, channel.removeprefix("webhook:"))
    return HOW_TO_LINK.format(platform=platform, channel=channel, platform_id=platform_id)


def chat_http_client() -> httpx.AsyncClient:
    """The client the channels call platforms with (tests inject one on a fake transport)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))


@dataclass
class Channels:
    """The channels' shared state: settings, the responder, how decisions are recorded, and the
    HTTP client for calls out to the platforms."""

    settings: Settings
    http: httpx.AsyncClient = field(default_factory=chat_http_client)
    responder: Responder | None = None  # None: whatever is installed in assistant_port
    decide: DecideFn | None = None  # None: a Temporal Update through request_service.decide
    temporal: Callable[[], Awaitable[Any]] | None = None  # the Temporal client for decisions
    _client: Any = None
    _platforms: dict[str, Any] = field(default_factory=dict)

    # -- the store (sync SQLAlchemy, run off the event loop) -------------------------------------

    async def first_time(self, channel: str, message_id: str) -> bool:
        def run() -> bool:
            with session_scope(self.settings.db_url, write=True) as s:
                return links.first_time(s, channel, message_id)

        fresh = await asyncio.to_thread(run)
        if not fresh:
            log.info("chat message repeated, ignored", channel=channel, message_id=message_id)
        return fresh

    async def username(self, channel: str, platform_id: str) -> str | None:
        def run() -> str | None:
            with session_scope(self.settings.db_url) as s:
                return links.username_for(s, channel, platform_id)

        return await asyncio.to_thread(run)

    # -- messages ---------------------------------------------------------------------------------

    async def chat(
        self,
        channel: str,
        platform_id: str,
        text: str,
        thread: str,
        message_id: str,
        *,
        user: str | None = None,
    ) -> ChatOut | None:
        """Answer a message from a platform account (`user`: already signed in, as in the web
        console). None: this message was handled before."""
        if not await self.first_time(channel, message_id):
            return None
        user = user or await self.username(channel, platform_id)
        if user is None:
            log.info("chat message from an unlinked account", channel=channel, message_id=message_id)
            return ChatOut(text=not_linked(channel, platform_id))
        return await self.respond(
            ChatIn(channel=channel, user=user, text=text, thread=thread, message_id=message_id)
        )

    async def respond(self, message: ChatIn) -> ChatOut:
        responder = self.responder or current()
        try:
            out = await responder(message)
        except Exception:
            log.exception("responder failed", channel=message.channel, message_id=message.message_id)
            return ChatOut(text=SORRY)
        log.info(
            "chat message answered",
            channel=message.channel,
            user=message.user,
            message_id=message.message_id,
            buttons=len(out.buttons),
        )
        return out

    # -- Approve / Reject -------------------------------------------------------------------------

    async def click(
        self,
        channel: str,
        platform_id: str,
        action: str,
        request_id: str,
        reason: str | None,
        click_id: str,
    ) -> tuple[bool, str] | None:
        """Record an Approve/Reject click as the linked user: (recorded?, what to tell them).
        None: this click was handled before."""
        if not await self.first_time(channel, f"click:{click_id}"):
            return None
        user = await self.username(channel, platform_id)
        if user is None:
            log.info("approval click from an unlinked account", channel=channel, request_id=request_id)
            return False, not_linked(channel, platform_id)
        reason = (reason or "").strip() or None
        if action == "reject" and reason is None:
            return False, REASON_NEEDED
        if action not in (Verdict.APPROVE, Verdict.REJECT):
            return False, f"unknown action {action!r}: approve or reject"
        verdict = Verdict(action)
        try:
            said = await (self.decide or self._decide_in_temporal)(user, request_id, verdict, reason)
        except DecisionRefused as e:
            log.info("approval click refused", channel=channel, user=user, request_id=request_id)
            return False, str(e)
        except Exception:
            log.exception("approval click failed", channel=channel, user=user, request_id=request_id)
            return False, UNSURE.format(request_id=request_id)
        log.info("approval click recorded", channel=channel, user=user, request_id=request_id, verdict=action)
        return True, said

    async def _decide_in_temporal(
        self, username: str, request_id: str, verdict: Verdict, reason: str | None
    ) -> str:
        """The same path as `hrops approve` / `hrops reject`."""
        from hrops import request_service as svc
        from hrops.temporal_client import TemporalUnavailable, connect

        try:
            if self._client is None:
                self._client = await (self.temporal() if self.temporal else connect(self.settings))
            who = await asyncio.to_thread(svc.principal, username, self.settings)
            record = await svc.decide(self._client, request_id, who, verdict, reason, self.settings)
        except svc.RequestError as e:
            raise DecisionRefused(str(e)) from None
        except TemporalUnavailable:
            raise DecisionRefused(
                "HR Ops cannot reach its workflow service right now; try again shortly"
            ) from None
        return f"Recorded: {record.approver} {record.verdict.past} {record.request_id} ({record.step} step)."

    # -- platform clients, made once ----------------------------------------------------------------

    def platform(self, name: str, make: Callable[[], Any]) -> Any:
        if name not in self._platforms:
            self._platforms[name] = make()
        return self._platforms[name]

    async def aclose(self) -> None:
        await self.http.aclose()
