"""The monthly learning digest: a subscription is a Temporal Schedule (real dev server: the
time-skipping server has no schedules); a run answers typed queries through the analytics engine
in the subscriber's scope, audits each read, and lands in the outbox once per subscriber and month."""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from temporalio.client import Client
from typer.testing import CliRunner

from hrops import digest_service as svc
from hrops import request_service as rs
from hrops.cli import app
from tests.conftest import TODAY, terminate_running
from tools.analytics.ask import fmt
from tools.analytics.catalogue import load
from tools.analytics.digest import KIND, previous_month
from tools.analytics.engine import answer
from tools.analytics.query import AnalyticsQuery
from tools.store import queries
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import AuditEntry, Notification, OrgUnit, Role, User
from workflows import task_queues
from workflows.learning_digest.messages import DigestSent, LearningDigestRequest, schedule_id_for
from workflows.learning_digest.workflow import LearningDigestWorkflow
from workflows.worker import build_worker

WAIT = 20.0


@pytest.fixture
async def client(temporal_env, demo: str) -> AsyncIterator[Client]:
    """A main-queue worker over the demo company; every digest schedule is gone afterwards."""
    async with build_worker(temporal_env.client, task_queues.MAIN):
        yield temporal_env.client
    with session_scope(demo) as s:
        users = s.scalars(select(User.username)).all()
    for username in users:  # by id: the schedule list comes from visibility and may lag
        handle = temporal_env.client.get_schedule_handle(schedule_id_for(username))
        if await svc._describe(handle) is not None:
            await handle.delete()
    await terminate_running(temporal_env.client)


def _division_heads(url: str) -> list[tuple[str, OrgUnit]]:
    with session_scope(url) as s:
        out = []
        for unit in s.scalars(select(OrgUnit).where(OrgUnit.kind == "division").order_by(OrgUnit.code)):
            user = s.scalar(select(User).where(User.employee_id == unit.head_employee_id))
            if user:
                out.append((user.username, unit))
        s.expunge_all()
        return out


def _codes(url: str, inside: OrgUnit) -> tuple[set[str], set[str]]:
    """Unit codes inside `inside`'s subtree, and all the others."""
    with session_scope(url) as s:
        mine = set(queries.subtree_ids(s, inside.id))
        units = s.scalars(select(OrgUnit)).all()
        return {u.code for u in units if u.id in mine}, {u.code for u in units if u.id not in mine}


def _outbox(url: str, username: str) -> list[Notification]:
    with session_scope(url) as s:
        rows = s.scalars(
            select(Notification).where(Notification.recipient == username, Notification.kind == KIND)
        ).all()
        s.expunge_all()
        return list(rows)


def _cli(temporal_env, monkeypatch, *args: str):  # noqa: ANN001, ANN202
    """The CLI against the test's Temporal server, in a thread (it runs its own event loop)."""
    from hrops.settings import reset_settings

    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", temporal_env.client.service_client.config.target_host)
    reset_settings()
    return asyncio.to_thread(CliRunner().invoke, app, list(args), env={"COLUMNS": "250"})


def _engine(url: str, username: str, month: date, **query) -> object:
    end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    q = AnalyticsQuery.model_validate(
        {**query, "period": {"start": month, "end": end}, "compare_to": "previous_period"}
    )
    with session_scope(url) as s:
        return answer(s, resolve_principal(s, username, TODAY), q, TODAY)


def _say(value: float | None, unit: str) -> str:
    return "n/a" if value is None else fmt(value, unit)


async def test_a_manager_gets_the_engines_figures_for_their_division_once_a_month(client, demo: str) -> None:
    (head, unit), *_ = _division_heads(demo)
    who = rs.principal(head)
    done = await svc.subscribe(client, who)
    s = done.subscription
    assert done.created and done.scope == unit.name and (s.language, s.day, s.hour) == ("en", 1, 6)
    assert s.next_run is not None and (s.next_run.day, s.next_run.hour) == (1, 6)
    again = await svc.subscribe(client, who, day=2, hour=7)  # subscribing again updates the schedule
    assert not again.created and (again.subscription.day, again.subscription.hour) == (2, 7)

    run = await svc.run_now(client, who)  # the schedule's action, now
    sent = await svc.result(client, run.workflow_id, WAIT)
    assert run.started and run.workflow_id.startswith(schedule_id_for(head))
    assert sent is not None and sent.queued == 1 and not sent.refused
    assert sent.month == previous_month(datetime.now(UTC).date())  # the month before the action's time
    [msg] = _outbox(demo, head)
    assert msg.subject == f"Learning digest: {unit.name}, {sent.month:%B %Y}"

    cat = load()
    for metrics in (
        ["training_hours", "training_hours_per_employee", "completions"],
        ["completion_rate", "active_learners", "mandatory_overdue"],
    ):
        a = _engine(demo, head, sent.month, metrics=metrics)
        assert a.provenance in msg.body
        [row] = a.rows
        for m in metrics:
            unit_of = cat.metrics[m].unit
            line = f"- {cat.metrics[m].en.capitalize()}: {_say(row.values[m], unit_of)} (before: {_say(row.compared[m], unit_of)})"
            assert line in msg.body, (line, msg.body)
    split = _engine(
        demo,
        head,
        sent.month,
        metrics=["training_hours_per_employee", "completion_rate", "mandatory_overdue"],
        by=["org_unit"],
    )
    for row in split.rows:
        cells = " / ".join(_say(v, cat.metrics[m].unit) for m, v in row.values.items())
        assert f"- {row.groups['org_unit']}: {cells}" in msg.body
    mine, others = _codes(demo, unit)
    assert {r.groups["org_unit"] for r in split.rows} <= mine
    assert not [c for c in others if c in msg.body]  # nothing of another division

    with session_scope(demo) as s:
        reads = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "analytics.answered", AuditEntry.workflow_id == run.workflow_id
            )
        ).all()
        subscribed = s.scalars(select(AuditEntry).where(AuditEntry.action == "digest.subscribed")).all()
    assert len(reads) == 3 and {e.actor for e in reads} == {head}
    assert all(e.details["scope"] == unit.name and e.details["read_by"] == KIND for e in reads)
    assert [e.details["created"] for e in subscribed] == [True, False]

    second = await svc.run_now(client, who)  # the same month again: read nothing, queue nothing
    resent = await svc.result(client, second.workflow_id, WAIT)
    assert second.workflow_id != run.workflow_id and resent == DigestSent(username=head, month=sent.month)
    assert len(_outbox(demo, head)) == 1


async def test_an_employee_is_refused_and_a_digest_the_engine_refuses_says_why(client, demo: str) -> None:
    with session_scope(demo) as s:
        plain = next(
            u
            for u in s.scalars(
                select(User.username)
                .where(User.active, User.employee_id.is_not(None))
                .order_by(User.username)
            )
            if resolve_principal(s, u, TODAY).roles == {Role.EMPLOYEE}
        )
    with pytest.raises(rs.RequestError, match="analytics answers are for managers, HRBPs and HR"):
        await svc.subscribe(client, rs.principal(plain))
    with pytest.raises(rs.RequestError, match="数据分析只面向经理"):
        await svc.subscribe(client, rs.principal(plain), "zh")
    assert await svc.subscription(client, plain) is None  # no schedule was made
    with pytest.raises(rs.RequestError, match="no learning digest subscription"):
        await svc.run_now(client, rs.principal(plain))
    # A subscriber who no longer has a scope (here: started directly) gets the reason, not a failure.
    sent = await client.execute_workflow(
        LearningDigestWorkflow.run,
        LearningDigestRequest(username=plain, month=date(2026, 10, 17)),
        id=f"digest-test-{plain}",
        task_queue=task_queues.MAIN,
    )
    assert sent.refused and sent.queued == 1 and sent.month == date(2026, 10, 1)
    [msg] = _outbox(demo, plain)
    assert msg.subject == "Learning digest for October 2026: not available"
    assert "analytics answers are for managers, HRBPs and HR" in msg.body


async def test_a_digest_in_chinese_from_the_cli(client, demo: str, temporal_env, monkeypatch) -> None:
    _, (head, unit), *_ = _division_heads(demo)
    out = await _cli(temporal_env, monkeypatch, "digest", "subscribe", "--as", head, "--lang", "zh")
    assert out.exit_code == 0 and f"{head} subscribed" in out.output and unit.name_zh in out.output
    assert (await svc.subscription(client, head)).language == "zh"
    out = await _cli(temporal_env, monkeypatch, "digest", "run", "--as", head)
    assert out.exit_code == 0 and f"queued for {head}: 学习月报:{unit.name_zh}" in out.output, out.output
    [msg] = _outbox(demo, head)
    assert msg.subject.startswith(f"学习月报:{unit.name_zh},") and msg.subject.endswith("月")
    for words in (
        "学习时长:",
        "人均学习时长",
        "完成率",
        "活跃学员",
        "必修课逾期数",
        "按部门",
        "数据来源:",
        "对比期",
    ):
        assert words in msg.body
    out = await _cli(temporal_env, monkeypatch, "digest", "run", "--as", head)
    assert "was sent to" in out.output and len(_outbox(demo, head)) == 1


async def test_unsubscribe_removes_the_schedule(client, demo: str, temporal_env, monkeypatch) -> None:
    (head, _), *_ = _division_heads(demo)
    await svc.subscribe(client, rs.principal(head))
    for _ in range(50):  # the list comes from visibility
        if head in [s.username for s in await svc.subscriptions(client)]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the subscription never showed in the list")
    out = await _cli(temporal_env, monkeypatch, "digest", "unsubscribe", "--as", head)
    assert out.exit_code == 0 and f"{head} unsubscribed" in out.output
    assert await svc.subscription(client, head) is None
    out = await _cli(temporal_env, monkeypatch, "digest", "unsubscribe", "--as", head)
    assert f"{head} had no learning digest subscription" in out.output
    with session_scope(demo) as s:
        assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "digest.unsubscribed")) == head
