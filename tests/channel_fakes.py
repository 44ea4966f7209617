"""Stand-ins for the chat platforms' APIs (an httpx transport, no network) and for the decision
path, plus the signatures Slack, Feishu and our webhooks put on their requests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from hrops.channels.assistant_port import ChatIn, ChatOut
from hrops.channels.hub import DecisionRefused
from tools.notify import links
from tools.store.db import session_scope
from workflows.approvals import Verdict

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FEISHU_TOKEN = "v-token-123"
FEISHU_KEY = "feishu-encrypt-key"
WEBHOOK_SECRET = "bridge-secret"


@dataclass
class Call:
    host: str
    path: str
    body: Any
    headers: dict[str, str]
    raw: bytes


@dataclass
class FakePlatforms:
    """Answers like Slack's Web API, Feishu's open platform and a webhook receiver; records calls.
    `fail[host]` lists statuses to answer first (then success); `delay` slows every answer."""

    calls: list[Call] = field(default_factory=list)
    fail: dict[str, list[int]] = field(default_factory=dict)
    delay: float = 0.0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = request.content
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode()
        host, path = request.url.host, request.url.path
        self.calls.append(Call(host, path, body, dict(request.headers), raw))
        if self.fail.get(host):
            return httpx.Response(self.fail[host].pop(0))
        if host == "slack.com":
            return httpx.Response(200, json={"ok": True, "ts": f"1700000000.{len(self.calls):06d}"})
        if path.endswith("/tenant_access_token/internal"):
            return httpx.Response(200, json={"code": 0, "tenant_access_token": "t-fake", "expire": 7200})
        if host == "open.feishu.cn":
            return httpx.Response(200, json={"code": 0, "msg": "success", "data": {}})
        return httpx.Response(200, json={})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def to(self, host: str, path_part: str = "") -> list[Call]:
        return [c for c in self.calls if c.host == host and path_part in c.path]


@dataclass
class FakeResponder:
    seen: list[ChatIn] = field(default_factory=list)

    async def __call__(self, message: ChatIn) -> ChatOut:
        self.seen.append(message)
        return ChatOut(text=f"echo: {message.text}")


@dataclass
class FakeDecide:
    """Records decisions; only li.wei may decide (the refusal text is the workflow's style)."""

    calls: list[tuple[str, str, Verdict, str | None]] = field(default_factory=list)

    async def __call__(self, user: str, request_id: str, verdict: Verdict, reason: str | None) -> str:
        self.calls.append((user, request_id, verdict, reason))
        if user != "li.wei":
            raise DecisionRefused(f"{user} may not decide {request_id}")
        return f"Recorded: {user} {verdict.past} {request_id}."


def link(url: str, channel: str, platform_id: str, username: str) -> None:
    with session_scope(url, write=True) as s:
        links.link(s, channel, platform_id, username, "admin")


def slack_headers(
    body: str, *, secret: str = SLACK_SECRET, at: int | None = None, form: bool = False
) -> dict:
    """Slack's v0 signature: HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing secret."""
    ts = str(at or int(time.time()))
    sig = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={sig}",
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
    }


def feishu_headers(body: bytes, *, key: str = FEISHU_KEY) -> dict:
    from hrops.channels.feishu import signature

    ts, nonce = str(int(time.time())), "nonce-42"
    return {
        "X-Lark-Request-Timestamp": ts,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": signature(ts, nonce, key, body),
        "Content-Type": "application/json",
    }
