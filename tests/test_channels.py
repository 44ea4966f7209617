"""Chat channels in: Slack (bolt, HTTP mode), Feishu (event subscription v2), generic webhooks and
the web console's chat. Signed payloads are posted to the app in-process; the platforms' APIs are
a fake transport; the responder and the decision path are injected."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from hrops import request_service as svc
from hrops.api import auth
from hrops.api.app import app
from hrops.channels import feishu
from hrops.channels.hub import Channels
from hrops.channels.webhook import SIGNATURE_HEADER, sign
from hrops.settings import get_settings, reset_settings
from tests.channel_fakes import (
    FEISHU_KEY,
    FEISHU_TOKEN,
    SLACK_SECRET,
    WEBHOOK_SECRET,
    FakeDecide,
    FakePlatforms,
    FakeResponder,
    feishu_headers,
    link,
    slack_headers,
)
from tests.test_record_change_workflow import NEW_HOME
from tools.store.db import session_scope
from tools.store.models import ChannelMessage
from workflows.approvals import Verdict

BASE_ENV = {
    "HROPS_SLACK_SIGNING_SECRET": SLACK_SECRET,
    "HROPS_SLACK_BOT_TOKEN": "xoxb-test",
    "HROPS_FEISHU_VERIFICATION_TOKEN": FEISHU_TOKEN,
    "HROPS_FEISHU_APP_ID": "cli_test",
    "HROPS_FEISHU_APP_SECRET": "app-secret",
    "HROPS_WEBHOOK_SECRETS": json.dumps({"bridge": WEBHOOK_SECRET}),
}


@dataclass
class Rig:
    api: httpx.AsyncClient
    platforms: FakePlatforms
    responder: FakeResponder
    decide: FakeDecide
    url: str

    def seen_messages(self) -> int:
        with session_scope(self.url) as s:
            return s.scalar(select(func.count()).select_from(ChannelMessage)) or 0


@asynccontextmanager
async def rig(
    monkeypatch: pytest.MonkeyPatch, url: str, temporal_client: Client | None = None, **env: str | None
) -> AsyncIterator[Rig]:
    """The API app with channels configured; decisions go to a FakeDecide, or through the real
    workflow when a Temporal client is given."""
    for key, value in {**BASE_ENV, **env}.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    reset_settings()
    platforms, responder, decide = FakePlatforms(), FakeResponder(), FakeDecide()
    hub = Channels(settings=get_settings(), http=platforms.client(), responder=responder, decide=decide)
    if temporal_client is not None:

        async def temporal() -> Client:
            return temporal_client

        hub.decide, hub.temporal = None, temporal
    app.state.channels = hub
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops") as api:
            yield Rig(api, platforms, responder, decide, url)
    finally:
        app.state.channels = None
        await hub.aclose()


# -- Slack --------------------------------------------------------------------------------------------


def _slack_event(text: str, *, user: str = "U_LI", ts: str = "1700000000.000100", **extra) -> str:
    event = {"type": "message", "channel": "D_LI", "channel_type": "im", "user": user, "text": text, "ts": ts}
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{ts}",
            "event_time": 1700000000,
            "event": {**event, **extra},
        }
    )


def _slack_click(
    action: str,
    *,
    user: str = "U_LI",
    reason: str | None = None,
    at: str = "1700000001.1",
    request: str = "REQ-1",
) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": "someone", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1700000000.000900", "channel_id": "D_LI"},
        "channel": {"id": "D_LI", "name": "directmessage"},
        "message": {
            "type": "message",
            "ts": "1700000000.000900",
            "text": "REQ-1 waits",
            "blocks": [
                {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "*REQ-1* waits"}},
                {"type": "actions", "block_id": "a", "elements": []},
            ],
        },
        "state": {"values": {"hrops_reason": {"reason": {"type": "plain_text_input", "value": reason}}}},
        "response_url": "https://hooks.slack.invalid/actions/1",
        "actions": [
            {
                "action_id": f"hrops_{action}:{request}",
                "block_id": "a",
                "value": request,
                "type": "button",
                "action_ts": at,
            }
        ],
    }
    return "payload=" + quote(json.dumps(payload))


async def test_slack_message_is_answered_in_its_thread_once(company, monkeypatch) -> None:
    link(company, "slack", "U_LI", "li.wei")
    async with rig(monkeypatch, company) as r:
        body = _slack_event("show my approvals", thread_ts="1699999999.000001")
        resp = await r.api.post("/channels/slack/events", content=body, headers=slack_headers(body))
        assert resp.status_code == 200
        [msg] = r.responder.seen
        assert (msg.channel, msg.user, msg.text) == ("slack", "li.wei", "show my approvals")
        assert msg.message_id == "D_LI:1700000000.000100" and msg.thread == "D_LI/1699999999.000001"
        [reply] = r.platforms.to("slack.com", "chat.postMessage")
        assert reply.headers["authorization"] == "Bearer xoxb-test"
        assert reply.body["channel"] == "D_LI" and reply.body["thread_ts"] == "1699999999.000001"
        assert reply.body["text"] == "echo: show my approvals"

        # Slack delivers again when an answer is slow: same message, handled once.
        retry = slack_headers(body) | {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert (await r.api.post("/channels/slack/events", content=body, headers=retry)).status_code == 200
        assert len(r.responder.seen) == 1 and len(r.platforms.to("slack.com")) == 1


async def test_slack_refuses_bad_signatures_and_stale_requests(company, monkeypatch) -> None:
    link(company, "slack", "U_LI", "li.wei")
    async with rig(monkeypatch, company) as r:
        body = _slack_event("hello")
        forged = slack_headers(body, secret="not-the-secret")
        stale = slack_headers(body, at=int(time.time()) - 3600)
        tampered = slack_headers(body.replace("hello", "hallo"))
        for headers in (forged, stale, {"Content-Type": "application/json"}):
            assert (
                await r.api.post("/channels/slack/events", content=body, headers=headers)
            ).status_code == 401
        resp = await r.api.post("/channels/slack/events", content=body, headers=tampered)
        assert resp.status_code == 401
        assert r.responder.seen == [] and r.platforms.calls == [] and r.seen_messages() == 0


async def test_slack_url_verification_and_an_unlinked_user(company, monkeypatch) -> None:
    async with rig(monkeypatch, company) as r:
        challenge = json.dumps({"token": "legacy", "challenge": "3eZbrw1aB", "type": "url_verification"})
        resp = await r.api.post("/channels/slack/events", content=challenge, headers=slack_headers(challenge))
        assert resp.status_code == 200 and resp.json()["challenge"] == "3eZbrw1aB"

        body = _slack_event("approve everything", user="U_STRANGER")
        assert (
            await r.api.post("/channels/slack/events", content=body, headers=slack_headers(body))
        ).is_success
        assert r.responder.seen == []  # nothing reaches the assistant
        [reply] = r.platforms.to("slack.com", "chat.postMessage")
        assert "hrops channels link slack U_STRANGER" in reply.body["text"]

        # The app's own messages and edits are not answered.
        for extra in ({"bot_id": "B1"}, {"subtype": "message_changed"}):
            body = _slack_event("loop?", ts="1700000000.000555", **extra)
            assert (
                await r.api.post("/channels/slack/events", content=body, headers=slack_headers(body))
            ).is_success
        assert len(r.platforms.calls) == 1


async def test_slack_buttons_decide_as_the_linked_user(company, monkeypatch) -> None:
    link(company, "slack", "U_LI", "li.wei")
    link(company, "slack", "U_AMY", "amy.hughes")
    async with rig(monkeypatch, company) as r:

        async def click(body: str) -> None:
            resp = await r.api.post(
                "/channels/slack/events", content=body, headers=slack_headers(body, form=True)
            )
            assert resp.status_code == 200

        await click(_slack_click("approve"))
        assert r.decide.calls == [("li.wei", "REQ-1", Verdict.APPROVE, None)]
        [update] = r.platforms.to("slack.com", "chat.update")
        assert update.body["ts"] == "1700000000.000900" and "li.wei approved REQ-1" in update.body["text"]
        assert [b["type"] for b in update.body["blocks"]] == ["section", "context"]  # the buttons are gone

        # Reject needs the reason from the message's reason box.
        await click(_slack_click("reject", at="1700000002.1"))
        assert len(r.decide.calls) == 1
        assert "needs a reason" in r.platforms.to("slack.com", "chat.postMessage")[-1].body["text"]
        await click(_slack_click("reject", reason="over budget", at="1700000003.1"))
        assert r.decide.calls[-1] == ("li.wei", "REQ-1", Verdict.REJECT, "over budget")

        # Someone who is not the approver gets the workflow's refusal, in the thread.
        await click(_slack_click("approve", user="U_AMY", at="1700000004.1"))
        assert r.decide.calls[-1][0] == "amy.hughes"
        refusal = r.platforms.to("slack.com", "chat.postMessage")[-1].body
        assert (
            refusal["text"] == "amy.hughes may not decide REQ-1"
            and refusal["thread_ts"] == "1700000000.000900"
        )

        # The same click delivered twice is one decision.
        await click(_slack_click("approve", at="1700000005.1"))
        await click(_slack_click("approve", at="1700000005.1"))
        assert len(r.decide.calls) == 4


async def test_a_slack_click_decides_through_the_approval_workflow(
    temporal_env, main_worker, company, monkeypatch
) -> None:
    """No fakes between the button and the workflow: the same path as `hrops approve`."""
    client = temporal_env.client
    link(company, "slack", "U_LI", "li.wei")
    link(company, "slack", "U_AMY", "amy.hughes")
    sub = await svc.submit_address_change(client, svc.principal("wang.fang"), "E1003", NEW_HOME)
    await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    async with rig(monkeypatch, company, temporal_client=client) as r:

        async def click(body: str) -> None:
            resp = await r.api.post(
                "/channels/slack/events", content=body, headers=slack_headers(body, form=True)
            )
            assert resp.status_code == 200

        await click(_slack_click("approve", user="U_AMY", request=sub.request_id))
        refusal = r.platforms.to("slack.com", "chat.postMessage")[-1].body["text"]
        assert refusal.startswith(f"amy.hughes may not decide the manager step of {sub.request_id}")
        await click(_slack_click("approve", at="1700000009.1", request=sub.request_id))
        [update] = r.platforms.to("slack.com", "chat.update")
        assert f"li.wei approved {sub.request_id}" in update.body["text"]
    state = await svc.wait_for_stage(client, sub.request_id, {"completed"})
    assert state.approval.steps[0].decision.approver == "li.wei"


async def test_slack_is_off_without_its_secret(company, monkeypatch) -> None:
    async with rig(monkeypatch, company, HROPS_SLACK_SIGNING_SECRET=None) as r:
        body = _slack_event("hello")
        assert (
            await r.api.post("/channels/slack/events", content=body, headers=slack_headers(body))
        ).status_code == 404


# -- Feishu -------------------------------------------------------------------------------------------


def _feishu_message(text: str, *, open_id: str = "ou_li", message_id: str = "om_1") -> dict:
    return {
        "schema": "2.0",
        "header": {
            "event_id": f"ev-{message_id}",
            "event_type": "im.message.receive_v1",
            "create_time": "1700000000000",
            "token": FEISHU_TOKEN,
            "app_id": "cli_test",
            "tenant_key": "tk",
        },
        "event": {
            "sender": {
                "sender_id": {"open_id": open_id, "user_id": "u1"},
                "sender_type": "user",
                "tenant_key": "tk",
            },
            "message": {
                "message_id": message_id,
                "chat_id": "oc_chat",
                "chat_type": "p2p",
                "message_type": "text",
                "content": json.dumps({"text": f"@_user_1 {text}"}),
                "mentions": [{"key": "@_user_1", "name": "HR Ops"}],
            },
        },
    }


def _feishu_card(
    action: str, *, open_id: str = "ou_li", reason: str = "", event_id: str = "ev-card-1"
) -> dict:
    return {
        "schema": "2.0",
        "header": {"event_id": event_id, "event_type": "card.action.trigger", "token": FEISHU_TOKEN},
        "event": {
            "operator": {"open_id": open_id, "user_id": "u1", "tenant_key": "tk"},
            "token": "c-token",
            "action": {
                "tag": "button",
                "name": f"{action}_0",
                "value": {"action": action, "request_id": "REQ-1"},
                "form_value": {"reason": reason},
            },
            "context": {"open_message_id": "om_card", "open_chat_id": "oc_chat"},
        },
    }


async def test_feishu_plain_events_verification_message_and_token(company, monkeypatch) -> None:
    link(company, "feishu", "ou_li", "li.wei")
    async with rig(monkeypatch, company) as r:
        challenge = {"challenge": "ajls384kdjx98XX", "token": FEISHU_TOKEN, "type": "url_verification"}
        resp = await r.api.post("/channels/feishu/events", json=challenge)
        assert resp.json() == {"challenge": "ajls384kdjx98XX"}
        wrong = await r.api.post("/channels/feishu/events", json={**challenge, "token": "guess"})
        assert wrong.status_code == 401

        event = _feishu_message("我的审批")
        assert (await r.api.post("/channels/feishu/events", json=event)).status_code == 200
        [msg] = r.responder.seen
        assert (msg.channel, msg.user, msg.text, msg.message_id) == ("feishu", "li.wei", "我的审批", "om_1")
        [reply] = r.platforms.to("open.feishu.cn", "/reply")
        assert reply.path == "/open-apis/im/v1/messages/om_1/reply"
        assert reply.headers["authorization"] == "Bearer t-fake"
        assert json.loads(reply.body["content"]) == {"text": "echo: 我的审批"}

        assert (await r.api.post("/channels/feishu/events", json=event)).status_code == 200  # a retry
        forged = _feishu_message("hi", message_id="om_2")
        forged["header"]["token"] = "guess"
        assert (await r.api.post("/channels/feishu/events", json=forged)).status_code == 401
        assert len(r.responder.seen) == 1


async def test_feishu_encrypted_events_must_be_signed(company, monkeypatch) -> None:
    link(company, "feishu", "ou_li", "li.wei")
    async with rig(monkeypatch, company, HROPS_FEISHU_ENCRYPT_KEY=FEISHU_KEY) as r:

        def sealed(data: dict) -> bytes:
            return json.dumps({"encrypt": feishu.encrypt(FEISHU_KEY, json.dumps(data))}).encode()

        challenge = sealed({"challenge": "c-1", "token": FEISHU_TOKEN, "type": "url_verification"})
        resp = await r.api.post("/channels/feishu/events", content=challenge)
        assert resp.json() == {"challenge": "c-1"}

        body = sealed(_feishu_message("hello"))
        for headers in ({}, feishu_headers(body, key="other-key"), feishu_headers(body + b" ")):
            assert (
                await r.api.post("/channels/feishu/events", content=body, headers=headers)
            ).status_code == 401
        plain = json.dumps(_feishu_message("hello")).encode()  # unencrypted, unsigned: refused too
        assert (await r.api.post("/channels/feishu/events", content=plain)).status_code == 401
        garbage = json.dumps({"encrypt": "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0IGF0IGFsbA=="}).encode()
        assert (
            await r.api.post("/channels/feishu/events", content=garbage, headers=feishu_headers(garbage))
        ).status_code == 401
        assert r.responder.seen == [] and r.seen_messages() == 0

        resp = await r.api.post("/channels/feishu/events", content=body, headers=feishu_headers(body))
        assert resp.status_code == 200 and [m.text for m in r.responder.seen] == ["hello"]
        assert feishu.decrypt(FEISHU_KEY, feishu.encrypt(FEISHU_KEY, "往返")) == "往返"


async def test_feishu_card_buttons_decide_as_the_linked_user(company, monkeypatch) -> None:
    link(company, "feishu", "ou_li", "li.wei")
    link(company, "feishu", "ou_amy", "amy.hughes")
    async with rig(monkeypatch, company) as r:
        ok = (await r.api.post("/channels/feishu/events", json=_feishu_card("approve"))).json()
        assert r.decide.calls == [("li.wei", "REQ-1", Verdict.APPROVE, None)]
        assert ok["toast"]["type"] == "success" and "li.wei approved REQ-1" in ok["toast"]["content"]
        assert "form" not in json.dumps(ok["card"])  # the buttons are gone from the card

        no_reason = (
            await r.api.post("/channels/feishu/events", json=_feishu_card("reject", event_id="e2"))
        ).json()
        assert no_reason["toast"]["type"] == "error" and "needs a reason" in no_reason["toast"]["content"]
        await r.api.post(
            "/channels/feishu/events", json=_feishu_card("reject", reason="重复申请", event_id="e3")
        )
        assert r.decide.calls[-1] == ("li.wei", "REQ-1", Verdict.REJECT, "重复申请")

        refused = (
            await r.api.post(
                "/channels/feishu/events", json=_feishu_card("approve", open_id="ou_amy", event_id="e4")
            )
        ).json()
        assert refused["toast"] == {"type": "error", "content": "amy.hughes may not decide REQ-1"}
        stranger = (
            await r.api.post(
                "/channels/feishu/events", json=_feishu_card("approve", open_id="ou_x", event_id="e5")
            )
        ).json()
        assert "hrops channels link feishu ou_x" in stranger["toast"]["content"]
        assert len(r.decide.calls) == 3


# -- generic webhook and the web console ---------------------------------------------------------------


async def _hook(
    r: Rig, payload: dict, *, name: str = "bridge", secret: str = WEBHOOK_SECRET
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await r.api.post(
        f"/channels/webhook/{name}", content=body, headers={SIGNATURE_HEADER: sign(secret, body)}
    )


async def test_webhook_messages_and_clicks(company, monkeypatch) -> None:
    link(company, "webhook:bridge", "li@teams", "li.wei")
    async with rig(monkeypatch, company) as r:
        msg = {"user": "li@teams", "text": "hello", "thread": "t-1", "message_id": "m-1"}
        first = await _hook(r, msg)
        assert first.json() == {"text": "echo: hello", "buttons": [], "duplicate": False, "recorded": None}
        assert r.responder.seen[0].channel == "webhook:bridge" and r.responder.seen[0].user == "li.wei"
        assert (await _hook(r, msg)).json()["duplicate"] is True

        assert (await _hook(r, {**msg, "message_id": "m-2"}, secret="wrong")).status_code == 401
        assert (await _hook(r, msg, name="unknown")).status_code == 404
        stranger = (await _hook(r, {**msg, "user": "who@teams", "message_id": "m-3"})).json()
        assert "hrops channels link webhook:bridge who@teams" in stranger["text"]
        assert len(r.responder.seen) == 1

        click = {
            "user": "li@teams",
            "message_id": "m-4",
            "action": {"action": "approve", "request_id": "REQ-1"},
        }
        assert (await _hook(r, click)).json()["recorded"] is True
        assert r.decide.calls == [("li.wei", "REQ-1", Verdict.APPROVE, None)]
        assert (await _hook(r, {**msg, "message_id": ""})).status_code == 422


async def test_web_console_chat_is_the_signed_in_user(company, monkeypatch) -> None:
    async with rig(monkeypatch, company) as r:
        headers = {"Authorization": f"Bearer {auth.issue(get_settings(), 'wang.fang')}"}
        resp = await r.api.post("/api/chat", json={"text": "hi", "message_id": "w-1"}, headers=headers)
        assert resp.json() == {"text": "echo: hi", "buttons": []}
        assert r.responder.seen[0].channel == "web" and r.responder.seen[0].user == "wang.fang"
        again = await r.api.post("/api/chat", json={"text": "hi", "message_id": "w-1"}, headers=headers)
        assert again.status_code == 409
        assert (await r.api.post("/api/chat", json={"text": "hi", "message_id": "w-2"})).status_code == 401
