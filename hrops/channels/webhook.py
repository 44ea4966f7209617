"""Generic webhooks: any chat system or bridge that can sign a POST.

In: `POST /channels/webhook/<name>` with `X-Hrops-Signature: sha256=<hex>`, the HMAC-SHA256 of
the raw body under that webhook's secret (`HROPS_WEBHOOK_SECRETS`), and a JSON body
`{user, text, thread, message_id}`; `user` is the account id on that system, linked as
`webhook:<name>`. A click is the same with `action: {action, request_id, reason}` instead of text.
The answer is JSON: `{text, buttons, duplicate, recorded}`.

Out: notifications for `webhook:<name>` links are POSTed to `HROPS_WEBHOOK_URLS[name]`, signed
the same way, as `{user, subject, text, buttons, message_id}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from pydantic import BaseModel, Field

from hrops.channels.assistant_port import Action, Button, ChatOut
from hrops.channels.hub import post_json

SIGNATURE_HEADER = "X-Hrops-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def genuine(secret: str, body: bytes, header: str | None) -> bool:
    return bool(header) and hmac.compare_digest(header.strip(), sign(secret, body))


class WebhookAction(BaseModel):
    action: Action
    request_id: str = Field(min_length=1, max_length=40)
    reason: str | None = Field(None, max_length=1000)


class WebhookIn(BaseModel):
    user: str = Field(min_length=1, max_length=200, description="the account id on the other system")
    text: str = Field("", max_length=4000)
    thread: str = Field("", max_length=200)
    message_id: str = Field(min_length=1, max_length=200)
    action: WebhookAction | None = None


class WebhookReply(BaseModel):
    text: str = ""
    buttons: list[Button] = []
    duplicate: bool = False  # this message_id was handled before: nothing was done now
    recorded: bool | None = None  # clicks: whether the decision was recorded


class WebhookOut:
    """Sends notifications to one webhook's URL."""

    def __init__(self, http: httpx.AsyncClient, url: str, secret: str) -> None:
        self.http, self.url, self.secret = http, url, secret

    async def send(self, to: str, subject: str, out: ChatOut, key: str) -> None:
        body = json.dumps(
            {
                "user": to,
                "subject": subject,
                "text": out.text,
                "buttons": [b.model_dump() for b in out.buttons],
                "message_id": key,
            },
            ensure_ascii=False,
        ).encode()
        await post_json(
            self.http,
            self.url,
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)},
        )
