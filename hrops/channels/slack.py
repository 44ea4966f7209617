"""Slack through slack-bolt in HTTP mode, at `POST /channels/slack/events`.

Bolt checks every request's signature (HMAC-SHA256 v0 with the signing secret, at most five
minutes old) and answers Slack's URL verification. What we take: direct messages to the app and
mentions of it (answered in the message's thread) and clicks on our Approve/Reject buttons
(recorded as the linked user). Slack wants an answer within three seconds, so the work runs after
the HTTP answer (a background task); a retried event is recognised by its message id.

Calls to Slack's Web API (chat.postMessage, chat.update) go through the channels' httpx client,
not slack_sdk's aiohttp one, so one injected client serves replies and notifications alike.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from typing import Any

import httpx
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from hrops.channels.assistant_port import ChatOut
from hrops.channels.hub import Channels, SendFailed, later, post_json
from hrops.logging import get_logger

log = get_logger(__name__)

SLACK = "slack"
API = "https://slack.com/api"
ACTION = re.compile(r"^hrops_(approve|reject)(:.*)?$")
REASON_BLOCK, REASON_INPUT = "hrops_reason", "reason"
MENTION = re.compile(r"<@[A-Z0-9]+>\s*")
SECTION_LIMIT = 2900  # Slack refuses section text over 3000 characters


def blocks(out: ChatOut, title: str | None = None) -> list[dict[str, Any]]:
    """Block Kit for a reply or a notification; with buttons, a reason box (needed to reject)."""
    text = f"*{title}*\n{out.text}" if title else out.text
    result: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}
    ]
    if out.buttons:
        result.append(
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Reason (needed to reject)"},
                "element": {"type": "plain_text_input", "action_id": REASON_INPUT},
            }
        )
        result.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": b.label},
                        "action_id": f"hrops_{b.action}:{b.request_id}",
                        "value": b.request_id,
                        "style": "primary" if b.action == "approve" else "danger",
                    }
                    for b in out.buttons
                ],
            }
        )
    return result


class SlackApi:
    """The few Web API methods we use, over the injected httpx client."""

    def __init__(self, http: httpx.AsyncClient, token: str, base_url: str = API) -> None:
        self.http, self.token, self.base_url = http, token, base_url

    async def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        resp = await post_json(
            self.http,
            f"{self.base_url}/{method}",
            json=payload,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        data = resp.json()
        if not data.get("ok"):
            raise SendFailed(f"slack: {data.get('error', 'unknown error')}")
        return data

    async def post(
        self, channel: str, out: ChatOut, *, thread_ts: str | None = None, title: str | None = None
    ) -> str:
        payload: dict[str, Any] = {
            "channel": channel,
            "text": f"{title}: {out.text}" if title else out.text,  # notifications and screen readers
            "blocks": blocks(out, title),
        }
        if thread_ts:
            payload["thread_ts"] = thread_ts
        return str((await self.call("chat.postMessage", payload)).get("ts", ""))

    async def send(self, to: str, subject: str, out: ChatOut, key: str) -> None:
        """A notification: a direct message from the app to the Slack user `to` (Slack has no
        idempotency key; the outbox's claim keeps a notification from going twice)."""
        await self.post(to, out, title=subject)


def api_of(hub: Channels) -> SlackApi | None:
    token = hub.settings.slack_bot_token
    if token is None:
        return None
    return hub.platform("slack-api", lambda: SlackApi(hub.http, token.get_secret_value()))


def _later(context: Any, work: Awaitable[None]) -> None:
    later(context["hrops_background"], work, "slack work")


async def _answer(hub: Channels, event: dict[str, Any]) -> None:
    channel_id, ts = event["channel"], event["ts"]
    thread_ts = event.get("thread_ts") or ts
    text = MENTION.sub("", event.get("text") or "").strip()
    out = await hub.chat(SLACK, event["user"], text, f"{channel_id}/{thread_ts}", f"{channel_id}:{ts}")
    if out is None:
        return
    api = api_of(hub)
    if api is None:
        log.warning("slack bot token unset: cannot reply", channel=SLACK)
        return
    await api.post(channel_id, out, thread_ts=thread_ts)


async def _clicked(hub: Channels, body: dict[str, Any], action: dict[str, Any]) -> None:
    match = ACTION.match(action.get("action_id", ""))
    if match is None:
        return
    container = body.get("container") or {}
    channel_id = container.get("channel_id") or (body.get("channel") or {}).get("id", "")
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts", "")
    state = ((body.get("state") or {}).get("values") or {}).get(REASON_BLOCK) or {}
    result = await hub.click(
        SLACK,
        body["user"]["id"],
        match.group(1),
        action.get("value", ""),
        (state.get(REASON_INPUT) or {}).get("value"),
        f"{channel_id}:{message_ts}:{action.get('action_ts', '')}",
    )
    api = api_of(hub)
    if result is None or api is None or not channel_id:
        return
    recorded, said = result
    if recorded:
        # The buttons go; the message keeps its text and says what was decided.
        kept = [b for b in (body.get("message") or {}).get("blocks", []) if b.get("type") == "section"]
        await api.call(
            "chat.update",
            {
                "channel": channel_id,
                "ts": message_ts,
                "text": said,
                "blocks": [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": said}]}],
            },
        )
    else:
        await api.post(channel_id, ChatOut(text=said), thread_ts=message_ts)


def _from_a_person(event: dict[str, Any]) -> bool:
    return bool(event.get("user")) and not event.get("bot_id") and not event.get("subtype")


def build_app(hub: Channels) -> AsyncApp:
    """The bolt app: signature checked by bolt's RequestVerification, listeners hand over to the hub."""
    secret = hub.settings.slack_signing_secret
    assert secret is not None, "the Slack channel is off without a signing secret"
    token = hub.settings.slack_bot_token

    async def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # Single workspace, token from settings: no auth.test round trip per request.
        return AuthorizeResult(
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=token.get_secret_value() if token else None,
        )

    app = AsyncApp(
        signing_secret=secret.get_secret_value(),
        authorize=authorize,
        process_before_response=True,  # listeners only queue background work: they return at once
        name="hrops",
        logger=logging.getLogger("hrops.channels.slack.bolt"),
    )

    @app.event("message")
    async def direct_message(event: dict[str, Any], context: Any) -> None:
        # In channels the app answers mentions (below); here only direct messages.
        if event.get("channel_type") == "im" and _from_a_person(event):
            _later(context, _answer(hub, event))

    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], context: Any) -> None:
        if _from_a_person(event):
            _later(context, _answer(hub, event))

    @app.action(ACTION)
    async def button(ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any) -> None:
        await ack()
        _later(context, _clicked(hub, body, action))

    @app.event(re.compile(".*"))
    async def anything_else() -> None:
        """Other subscribed events: acknowledged, nothing to do."""

    return app
