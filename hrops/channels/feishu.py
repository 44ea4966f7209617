"""Feishu (Lark) through its event subscription v2, at `POST /channels/feishu/events`.

Checked on every request: the verification token (in the event header, or at the top of the URL
verification); with an encrypt key set, the body arrives as `{"encrypt": ...}` (AES-256-CBC, key
SHA-256 of the encrypt key, IV the first 16 bytes, PKCS#7 padding) and every event but the URL
verification must carry `X-Lark-Signature` = SHA-256(timestamp + nonce + encrypt key + body).

Taken: `im.message.receive_v1` (text messages, answered in the message's thread, after the HTTP
answer), and `card.action.trigger` (the Approve/Reject buttons of our cards, answered at once
with a toast and the card without its buttons). The platform user id is the app's `open_id`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from typing import Any

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hrops.channels.assistant_port import ChatOut
from hrops.channels.hub import Channels, SendFailed, post_json
from hrops.logging import get_logger

log = get_logger(__name__)

FEISHU = "feishu"
TIMESTAMP, NONCE, SIGNATURE = "X-Lark-Request-Timestamp", "X-Lark-Request-Nonce", "X-Lark-Signature"
MESSAGE_RECEIVED, CARD_ACTION = "im.message.receive_v1", "card.action.trigger"
TOKEN_MARGIN = 300  # renew the tenant token this many seconds before it expires


class NotGenuine(Exception):
    """The request is not from our Feishu app (token, signature or encryption wrong)."""


# -- encryption and signature ------------------------------------------------------------------------


def _aes(encrypt_key: str, iv: bytes) -> Cipher:
    return Cipher(algorithms.AES(hashlib.sha256(encrypt_key.encode()).digest()), modes.CBC(iv))


def decrypt(encrypt_key: str, encrypted: str) -> str:
    try:
        raw = base64.b64decode(encrypted, validate=True)
        if len(raw) < 32 or len(raw) % 16:
            raise ValueError("bad length")
        decryptor = _aes(encrypt_key, raw[:16]).decryptor()
        padded = decryptor.update(raw[16:]) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()
    except ValueError:
        raise NotGenuine("the event does not decrypt with the encrypt key") from None


def encrypt(encrypt_key: str, plain: str) -> str:
    """What Feishu does to an event (for tests and local tools)."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain.encode()) + padder.finalize()
    encryptor = _aes(encrypt_key, iv).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def open_event(
    body: bytes, headers: dict[str, str], verification_token: str, encrypt_key: str | None
) -> dict[str, Any]:
    """The event, once it is shown to come from our app; NotGenuine otherwise."""
    try:
        data = json.loads(body)
        if encrypt_key and "encrypt" in data:
            data = json.loads(decrypt(encrypt_key, data["encrypt"]))
        elif "encrypt" in data:
            raise NotGenuine("an encrypted event, but HROPS_FEISHU_ENCRYPT_KEY is not set")
    except (ValueError, TypeError):
        raise NotGenuine("the body is not a Feishu event") from None
    if not isinstance(data, dict):
        raise NotGenuine("the body is not a Feishu event")
    header = data.get("header") if isinstance(data.get("header"), dict) else {}
    token = str(header.get("token") or data.get("token") or "")
    if not hmac.compare_digest(token.encode(), verification_token.encode()):
        raise NotGenuine("wrong verification token")
    if encrypt_key and data.get("type") != "url_verification":
        ts, nonce, sig = (headers.get(h.lower(), "") for h in (TIMESTAMP, NONCE, SIGNATURE))
        if not sig or not hmac.compare_digest(sig, signature(ts, nonce, encrypt_key, body)):
            raise NotGenuine("missing or wrong signature")
    return data


# -- calls to Feishu ---------------------------------------------------------------------------------


def card(out: ChatOut, title: str | None = None, note: str | None = None) -> dict[str, Any]:
    """A card (JSON 2.0). Buttons sit in a form with a reason box: Reject needs the reason."""
    elements: list[dict[str, Any]] = [{"tag": "markdown", "content": out.text}]
    if note:
        elements.append({"tag": "markdown", "content": note})
    if out.buttons:
        form: list[dict[str, Any]] = [
            {
                "tag": "input",
                "name": "reason",
                "placeholder": {"tag": "plain_text", "content": "Reason (needed to reject)"},
            }
        ]
        form += [
            {
                "tag": "button",
                "name": f"{b.action}_{i}",
                "text": {"tag": "plain_text", "content": b.label},
                "type": "primary" if b.action == "approve" else "danger",
                "form_action_type": "submit",
                "behaviors": [
                    {"type": "callback", "value": {"action": b.action, "request_id": b.request_id}}
                ],
            }
            for i, b in enumerate(out.buttons)
        ]
        elements.append({"tag": "form", "name": "decision", "elements": form})
    result: dict[str, Any] = {"schema": "2.0", "body": {"elements": elements}}
    if title:
        result["header"] = {"title": {"tag": "plain_text", "content": title}}
    return result


def _content(out: ChatOut, title: str | None) -> tuple[str, str]:
    if out.buttons or title:
        return "interactive", json.dumps(card(out, title), ensure_ascii=False)
    return "text", json.dumps({"text": out.text}, ensure_ascii=False)


class FeishuApi:
    """Messages out through the open platform, with a cached tenant access token."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, app_id: str, app_secret: str) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.app_id, self.app_secret = app_id, app_secret
        self._token: tuple[str, float] | None = None

    async def _call(self, path: str, payload: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = (await post_json(self.http, f"{self.base_url}{path}", json=payload, headers=headers)).json()
        if data.get("code") != 0:
            raise SendFailed(f"feishu: code {data.get('code')}")
        return data

    async def token(self) -> str:
        if self._token is None or self._token[1] <= time.monotonic():
            data = await self._call(
                "/open-apis/auth/v3/tenant_access_token/internal",
                {"app_id": self.app_id, "app_secret": self.app_secret},
            )
            expires = float(data.get("expire", 7200)) - TOKEN_MARGIN
            self._token = (data["tenant_access_token"], time.monotonic() + expires)
        return self._token[0]

    async def send(self, to: str, subject: str, out: ChatOut, key: str) -> None:
        """A notification to the user whose open_id is `to`; Feishu drops a repeat of `key` (uuid)."""
        msg_type, content = _content(out, subject)
        await self._call(
            "/open-apis/im/v1/messages?receive_id_type=open_id",
            {"receive_id": to, "msg_type": msg_type, "content": content, "uuid": key[:50]},
            await self.token(),
        )

    async def reply(self, message_id: str, out: ChatOut) -> None:
        msg_type, content = _content(out, None)
        await self._call(
            f"/open-apis/im/v1/messages/{message_id}/reply",
            {"msg_type": msg_type, "content": content, "reply_in_thread": True},
            await self.token(),
        )


def api_of(hub: Channels) -> FeishuApi | None:
    cfg = hub.settings
    if not (cfg.feishu_app_id and cfg.feishu_app_secret):
        return None
    return hub.platform(
        "feishu-api",
        lambda: FeishuApi(
            hub.http, cfg.feishu_base_url, cfg.feishu_app_id, cfg.feishu_app_secret.get_secret_value()
        ),
    )


# -- events ------------------------------------------------------------------------------------------


def message_text(message: dict[str, Any]) -> str | None:
    """The text of a text message, @-mention placeholders removed; None for other kinds."""
    if message.get("message_type") != "text":
        return None
    try:
        text = str(json.loads(message.get("content") or "{}").get("text", ""))
    except ValueError:
        return None
    for mention in message.get("mentions") or []:
        text = text.replace(str(mention.get("key", "")), "")
    return text.strip()


async def answer_message(hub: Channels, event: dict[str, Any]) -> None:
    """Runs after the HTTP answer: Feishu retries an event not answered within three seconds."""
    sender, message = event.get("sender") or {}, event.get("message") or {}
    open_id = (sender.get("sender_id") or {}).get("open_id")
    message_id = message.get("message_id")
    if sender.get("sender_type") != "user" or not open_id or not message_id:
        return
    text = message_text(message)
    thread = f"{message.get('chat_id', '')}/{message.get('root_id') or message_id}"
    if text is None:
        if not await hub.first_time(FEISHU, message_id):
            return
        out: ChatOut | None = ChatOut(text="I can read text messages only.")
    else:
        out = await hub.chat(FEISHU, open_id, text, thread, message_id)
    if out is None:
        return
    api = api_of(hub)
    if api is None:
        log.warning("feishu app id or secret unset: cannot reply", channel=FEISHU)
        return
    await api.reply(message_id, out)


def _object(value: Any) -> dict[str, Any]:
    """A part of an event that should be an object; anything else reads as an empty one."""
    return value if isinstance(value, dict) else {}


async def card_clicked(hub: Channels, event_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The answer to a card button: a toast, and on success the card without its buttons."""
    action = _object(event.get("action"))
    value = _object(action.get("value"))
    open_id = str(_object(event.get("operator")).get("open_id", ""))
    reason = _object(action.get("form_value")).get("reason")
    result = await hub.click(
        FEISHU,
        open_id,
        str(value.get("action", "")),
        str(value.get("request_id", "")),
        None if reason is None else str(reason),
        event_id,
    )
    if result is None:
        return {}
    recorded, said = result
    answer: dict[str, Any] = {"toast": {"type": "success" if recorded else "error", "content": said}}
    if recorded:
        answer["card"] = {
            "type": "raw",
            "data": card(ChatOut(text=said), title=str(value.get("request_id", ""))),
        }
    return answer
