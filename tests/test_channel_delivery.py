"""Outbox delivery to chat channels (a fake transport, no network), and `hrops channels`."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hrops.channels.delivery import Deliverer, backoff, in_background, senders_for
from hrops.channels.webhook import SIGNATURE_HEADER, sign
from hrops.cli import app as cli
from hrops.cli.common import CliError
from hrops.logging import configure_logging
from hrops.settings import get_settings, reset_settings
from tests.channel_fakes import WEBHOOK_SECRET, FakePlatforms, link
from tools.notify import outbox
from tools.store.db import session_scope
from tools.store.models import AuditEntry, Notification

runner = CliRunner()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def channels_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HROPS_SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("HROPS_FEISHU_APP_ID", "cli_test")
    monkeypatch.setenv("HROPS_FEISHU_APP_SECRET", "app-secret")
    monkeypatch.setenv("HROPS_WEBHOOK_SECRETS", json.dumps({"bridge": WEBHOOK_SECRET}))
    monkeypatch.setenv("HROPS_WEBHOOK_URLS", json.dumps({"bridge": "https://bridge.invalid/hrops"}))
    monkeypatch.setenv("HROPS_DELIVERY_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("HROPS_DELIVERY_BACKOFF", "30")
    reset_settings()


def _queue(
    url: str, recipients: list[str], key: str, kind: str = "approval_requested", request: str = "REQ-7"
) -> None:
    with session_scope(url, write=True) as s:
        outbox.queue(
            s,
            outbox.Message(
                recipients=recipients,
                kind=kind,
                request_id=request,
                subject=f"{request} address change for E1003: waiting for your decision",
                body=f"Step 1 of 1 (manager): 88 Century Avenue. Decide with `hrops approve {request}`.",
                key=key,
            ),
        )


def _rows(url: str) -> dict[str, Notification]:
    with session_scope(url) as s:
        return {n.recipient: n for n in s.scalars(select(Notification))}


def _deliverer(platforms: FakePlatforms) -> Deliverer:
    return Deliverer(get_settings(), senders_for(get_settings(), platforms.client()))


async def test_each_notification_goes_to_its_recipients_channel_once(company, channels_on) -> None:
    link(company, "slack", "U_LI", "li.wei")
    link(company, "feishu", "ou_chen", "chen.jing")
    link(company, "webhook:bridge", "amy@bridge", "amy.hughes")
    _queue(company, ["li.wei", "chen.jing", "amy.hughes", "wang.fang"], "wf/REQ-7/0/requested")
    _queue(company, ["li.wei"], "wf/REQ-7/applied", kind="change_applied")
    platforms = FakePlatforms()
    done = await _deliverer(platforms).round(T0)
    assert (done.sent, done.retrying, done.waiting) == (4, 0, 0)

    slack_calls = platforms.to("slack.com", "chat.postMessage")
    assert [c.body["channel"] for c in slack_calls] == ["U_LI", "U_LI"]
    approval, applied = (c.body["blocks"] for c in slack_calls)
    buttons = approval[-1]["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("hrops_approve:REQ-7", "REQ-7"),
        ("hrops_reject:REQ-7", "REQ-7"),
    ]
    assert [b["type"] for b in applied] == ["section"]  # no buttons on a plain message

    [feishu] = platforms.to("open.feishu.cn", "/im/v1/messages")
    assert feishu.body["receive_id"] == "ou_chen" and feishu.body["msg_type"] == "interactive"
    assert '"behaviors"' in feishu.body["content"] and feishu.headers["authorization"] == "Bearer t-fake"

    [hook] = platforms.to("bridge.invalid")
    assert hook.headers[SIGNATURE_HEADER.lower()] == sign(WEBHOOK_SECRET, hook.raw)
    assert hook.body["user"] == "amy@bridge" and [b["action"] for b in hook.body["buttons"]] == [
        "approve",
        "reject",
    ]

    rows = _rows(company)
    assert all(rows[u].delivered_at and rows[u].attempts == 1 for u in ("chen.jing", "amy.hughes"))
    assert rows["amy.hughes"].channel == "webhook:bridge"
    # Nobody linked wang.fang: her message stays in the outbox, untried.
    assert rows["wang.fang"].delivered_at is None and rows["wang.fang"].attempts == 0

    calls = len(platforms.calls)
    again = await _deliverer(platforms).round(T0 + timedelta(hours=2))
    assert again.sent == 0 and len(platforms.calls) == calls

    out = runner.invoke(cli, ["channels", "outbox"], env={"COLUMNS": "250"}).output
    assert "wang.fang" in out and "no linked chat account" in out and "li.wei" not in out


async def test_a_failed_send_is_retried_with_backoff(company, channels_on) -> None:
    link(company, "slack", "U_LI", "li.wei")
    _queue(company, ["li.wei"], "wf/REQ-7/0/requested")
    platforms = FakePlatforms(fail={"slack.com": [500]})
    deliverer = _deliverer(platforms)

    first = await deliverer.round(T0)
    assert (first.sent, first.retrying) == (0, 1)
    row = _rows(company)["li.wei"]
    assert row.attempts == 1 and row.last_error == "http 500" and row.delivered_at is None
    wait = backoff(get_settings(), 1)
    assert wait == timedelta(seconds=30) and backoff(get_settings(), 3) == timedelta(seconds=120)

    assert (await deliverer.round(T0 + wait - timedelta(seconds=1))).sent == 0  # not yet its turn
    assert (await deliverer.round(T0 + wait)).sent == 1
    row = _rows(company)["li.wei"]
    assert row.attempts == 2 and row.delivered_at is not None and row.last_error is None
    assert len(platforms.to("slack.com")) == 2


async def test_delivery_gives_up_after_the_last_attempt_and_keeps_the_error(company, channels_on) -> None:
    link(company, "slack", "U_LI", "li.wei")
    _queue(company, ["li.wei"], "wf/REQ-7/0/requested")
    platforms = FakePlatforms(fail={"slack.com": [503] * 10})
    deliverer, at = _deliverer(platforms), T0
    results = []
    for _ in range(5):
        results.append(await deliverer.round(at))
        at += timedelta(hours=2)
    assert [(r.retrying, r.gave_up) for r in results] == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    row = _rows(company)["li.wei"]
    assert row.attempts == 3 and row.last_error == "http 503" and row.delivered_at is None
    assert row.next_attempt_at is None and len(platforms.calls) == 3
    out = runner.invoke(cli, ["channels", "outbox"], env={"COLUMNS": "250"}).output
    assert "gave up: http 503" in out


async def test_two_deliverers_never_send_the_same_notification(company, channels_on) -> None:
    people = ["li.wei", "chen.jing", "amy.hughes", "wang.fang"]
    for i, who in enumerate(people):
        link(company, "slack", f"U{i}", who)
    for n in range(5):
        _queue(company, people, f"wf/REQ-{n}/requested", request=f"REQ-{n}")
    platforms = FakePlatforms(delay=0.005)  # sends overlap
    a, b = _deliverer(platforms), _deliverer(platforms)
    first, second = await asyncio.gather(a.round(T0), b.round(T0))
    # Every notification sent once between them. How many each found already taken depends on
    # timing: a row the other one delivered before this one looked is not due any more.
    assert first.sent + second.sent == 20 and first.taken + second.taken <= 20
    sent = [(c.body["channel"], c.body["text"]) for c in platforms.calls]
    assert len(sent) == len(set(sent)) == 20

    # The claim itself: of two deliverers holding the same snapshot, one wins.
    _queue(company, ["li.wei"], "wf/REQ-9/requested")
    with session_scope(company) as s:
        [row] = outbox.due(s, T0, 3)
    wins = []
    for _ in range(2):
        with session_scope(company, write=True) as s:
            wins.append(outbox.claim(s, row, "slack", T0, timedelta(minutes=2), 3))
    assert wins == [True, False]


async def test_delivery_logs_carry_ids_not_message_text(company, channels_on) -> None:
    link(company, "slack", "U_LI", "li.wei")
    _queue(company, ["li.wei"], "wf/REQ-7/0/requested")
    stream = io.StringIO()
    configure_logging(get_settings(), stream=stream)
    await _deliverer(FakePlatforms(fail={"slack.com": [500]})).round(T0)
    await _deliverer(FakePlatforms()).round(T0 + timedelta(hours=1))
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert "notification send failed" in events and "notification delivered" in events
    text = stream.getvalue()
    for private in ("88 Century Avenue", "waiting for your decision", "U_LI", "xoxb-test"):
        assert private not in text


async def test_the_worker_delivers_in_the_background(company, channels_on, monkeypatch) -> None:
    monkeypatch.setenv("HROPS_DELIVERY_INTERVAL", "0.05")
    reset_settings()
    link(company, "slack", "U_LI", "li.wei")
    platforms = FakePlatforms()
    async with in_background(get_settings(), platforms.client()):
        _queue(company, ["li.wei"], "wf/REQ-7/0/requested")  # queued while the loop runs
        for _ in range(100):
            if _rows(company)["li.wei"].delivered_at:
                break
            await asyncio.sleep(0.02)
    assert _rows(company)["li.wei"].delivered_at is not None and len(platforms.calls) == 1


def test_link_list_unlink_from_the_command_line(company, channels_on) -> None:
    out = runner.invoke(cli, ["channels", "link", "slack", "U_LI", "E1002"]).output
    assert "linked slack U_LI -> li.wei" in out
    out = runner.invoke(cli, ["channels", "link", "slack", "U_LI", "wang.fang"]).output
    assert "(was li.wei)" in out
    listed = runner.invoke(cli, ["channels", "list"], env={"COLUMNS": "200"}).output
    assert "U_LI" in listed and "wang.fang" in listed and "slack: in off, out on" in listed
    assert "webhook:bridge: in on, out on" in listed
    for args, message in (
        (["link", "slack", "U_X", "ghost"], "unknown user 'ghost'"),
        (["link", "teams", "U_X", "li.wei"], "unknown channel 'teams'"),
        (["unlink", "slack", "U_NOBODY"], "no link for slack U_NOBODY"),
    ):
        with pytest.raises(CliError, match=message):
            runner.invoke(cli, ["channels", *args], catch_exceptions=False)
    assert (
        "unlinked slack U_LI (was wang.fang)"
        in runner.invoke(cli, ["channels", "unlink", "slack", "U_LI"]).output
    )
    assert "no linked accounts" in runner.invoke(cli, ["channels", "list"]).output
    with session_scope(company) as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.action.like("channel.%"))))
    assert actions == ["channel.linked", "channel.linked", "channel.unlinked"]


def test_deliver_once_from_the_command_line_needs_a_channel(company) -> None:
    with pytest.raises(CliError, match="no channel can send"):
        runner.invoke(cli, ["channels", "deliver", "--once"], catch_exceptions=False)
