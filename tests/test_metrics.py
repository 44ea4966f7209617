"""Prometheus metrics: `GET /metrics` counts what really happened (workflows on a real dev server,
approvals, legacy pushes in a real browser, model calls), never names anyone, and survives
Temporal being down; a worker started with a metrics port serves the Temporal SDK's metrics."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from hrops import request_service as svc
from hrops.api.app import app
from hrops.settings import reset_settings
from tests import company as tiny
from tools.hr.schemas import PostalAddress
from tools.privacy import receipts
from tools.store.db import session_scope
from tools.store.models import Employee, User
from workflows.approvals import Verdict

HOME = PostalAddress(line1="1 Jinke Road", city="Shanghai", postcode="201203", country="CN")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _rpa_pollers(text: str) -> float:
    return value(
        _parse(text),
        "temporal_num_pollers",
        namespace="default",
        poller_type="activity_task",
        service_name="temporal-core-sdk",
        task_queue="hrops-rpa",
    )


def label_values(text: str) -> set[str]:
    return {v for f in text_string_to_metric_families(text) for s in f.samples for v in s.labels.values()}


@pytest.fixture
async def http(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process; every scrape reads afresh (no cache) unless a test sets one."""
    monkeypatch.setenv("HROPS_METRICS_CACHE_SECONDS", "0")
    reset_settings()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops") as client:
        yield client
    app.state.client = None


async def scrape(http: httpx.AsyncClient) -> tuple[Samples, str]:
    r = await http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return _parse(r.text), r.text


async def scrape_until(
    http: httpx.AsyncClient, holds: Callable[[Samples], bool], timeout: float = 15.0
) -> tuple[Samples, str]:
    """Visibility trails the workflows by a moment."""
    for _ in range(int(timeout * 5)):
        samples, text = await scrape(http)
        if holds(samples):
            return samples, text
        await asyncio.sleep(0.2)
    raise AssertionError(f"the metrics never got there; last scrape:\n{text}")


def _dead_address() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


async def test_workflows_approvals_and_model_calls_are_counted_as_they_happened(
    temporal_env, main_worker, company: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = temporal_env.client
    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", client.service_client.config.target_host)
    reset_settings()
    app.state.client = client
    kind = "RecordChangeWorkflow"
    before, _ = await scrape(http)  # the dev server is shared by the session: counts are compared

    def runs(samples: Samples, status: str) -> float:
        return value(samples, "hrops_workflows", workflow_type=kind, status=status) - value(
            before, "hrops_workflows", workflow_type=kind, status=status
        )

    # Three requests for the same address, one after another (an applied change is the day's last).
    hr, manager = svc.principal("amy.hughes"), svc.principal("li.wei")
    rejected = await svc.submit_address_change(
        client, hr, "E1003", HOME.model_copy(update={"line1": "2 Jinke"})
    )
    await svc.wait_for_stage(client, rejected.request_id, {"awaiting_approval"})
    waiting, _ = await scrape_until(
        http,
        lambda m: (
            runs(m, "running") == 1
            and value(m, "hrops_approvals_pending") == value(before, "hrops_approvals_pending") + 1
        ),
    )
    await svc.decide(client, rejected.request_id, manager, Verdict.REJECT, "wrong building")
    await svc.wait_for_stage(client, rejected.request_id, {"rejected"})

    stopped = await svc.submit_address_change(
        client, hr, "E1003", HOME.model_copy(update={"line1": "3 Jinke"})
    )
    await svc.wait_for_stage(client, stopped.request_id, {"awaiting_approval"})
    await client.get_workflow_handle(stopped.workflow_id).terminate("operator stopped it")

    approved = await svc.submit_address_change(client, hr, "E1003", HOME)
    await svc.wait_for_stage(client, approved.request_id, {"awaiting_approval"})
    await svc.decide(client, approved.request_id, manager, Verdict.APPROVE)
    await svc.wait_for_stage(client, approved.request_id, {"completed"})

    after, text = await scrape_until(
        http, lambda m: runs(m, "completed") == 2 and runs(m, "terminated") == 1 and runs(m, "running") == 0
    )
    statuses = {dict(k[1])["status"] for k in after if k[0] == "hrops_workflows"}
    assert sum(runs(after, s) for s in statuses) == 3  # started: every status together
    assert runs(after, "failed") == 0
    assert value(after, "hrops_approvals_pending") == value(before, "hrops_approvals_pending")
    assert value(after, "hrops_temporal_up") == 1 and value(after, "hrops_store_up") == 1

    # Two decisions, each made seconds after its step opened; the terminated request's step is open.
    step = {"rule": "address_change", "step": "manager"}
    assert value(after, "hrops_approval_decisions_total", rule="address_change", verdict="approved") == 1
    assert value(after, "hrops_approval_decisions_total", rule="address_change", verdict="rejected") == 1
    assert value(after, "hrops_approval_wait_seconds_count", **step) == 2
    assert value(after, "hrops_approval_wait_seconds_bucket", **step, le="60.0") == 2
    assert 0 < value(after, "hrops_approval_wait_seconds_sum", **step) < 120

    # The approval summary agent ran once per request, on the offline model (nothing left).
    calls = {"agent": "change_summary", "endpoint": "local"}
    assert value(after, "hrops_model_calls_total", **calls) == 3
    with session_scope(company) as s:
        sent = sum(r.input_tokens or 0 for r in receipts.listed(s))
    assert value(after, "hrops_model_tokens_total", **calls, direction="input") == sent > 0

    # Nobody is named: no employee id, name or username, no request id.
    people = {v for p in tiny.PEOPLE for v in (p[0], p[1], p[2], p[3], p[4])}
    assert not label_values(text) & people
    assert not re.search(r"\bE1\d{3}\b|REQ-\d", text)
    assert waiting  # the pending gauge rose while the first request waited


async def test_legacy_pushes_by_outcome_while_temporal_is_down(
    sim, demo: str, browser_pool, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    from tests.legacy_fixtures import SYSTEM, active_employees, set_employee
    from tools.legacy.errors import ValidationRejected
    from tools.legacy.push import PushRequest, push

    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", _dead_address())
    reset_settings()
    app.state.client = None

    def request(eid: str) -> PushRequest:
        return PushRequest(
            system=SYSTEM, form="new_hire", employee_id=eid, actor="admin", evidence_folder=f"m-{eid}"
        )

    entered, refused = active_employees(demo, 2)
    assert (await push(request(entered), pool=browser_pool)).outcome == "entered"
    set_employee(demo, refused, family_name="Wolfeschlegelsteinhausenbergerdorff-Smithson")  # 44 > 40
    with pytest.raises(ValidationRejected):
        await push(request(refused), pool=browser_pool)

    samples, text = await scrape(http)
    assert value(samples, "hrops_temporal_up") == 0 and value(samples, "hrops_store_up") == 1
    assert "hrops_workflows" not in text  # not reported as zeros while unknown
    pushes = {
        dict(labels)["outcome"]: n
        for (name, labels), n in samples.items()
        if name == "hrops_legacy_pushes_total" and dict(labels)["system"] == SYSTEM
    }
    assert pushes == {"entered": 1, "failed": 1}

    with session_scope(demo) as s:
        people = {
            v
            for e in s.scalars(select(Employee))
            for v in (e.id, e.given_name, e.family_name, e.display_name, e.work_email)
            if v
        } | set(s.scalars(select(User.username)))
    assert len(people) > 100
    assert not label_values(text) & people
    assert not re.search(r"\bE\d{4,}\b", text)


async def test_metrics_can_be_turned_off_and_scrapes_share_one_read(
    company: str, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", _dead_address())
    monkeypatch.setenv("HROPS_METRICS_CACHE_SECONDS", "600")
    reset_settings()

    def call() -> None:
        with session_scope(company, write=True) as s:
            receipts.record(
                s,
                receipts.Receipt(
                    at=datetime.now(UTC),
                    agent="onboarding_plan",
                    model="offline-onboarding_plan",
                    endpoint="local",
                    egress=False,
                    prompt_sha256=receipts.fingerprint("{}"),
                ),
            )

    labels = {"agent": "onboarding_plan", "endpoint": "local"}
    call()
    first, _ = await scrape(http)
    call()
    cached, _ = await scrape(http)
    assert (
        value(first, "hrops_model_calls_total", **labels)
        == value(cached, "hrops_model_calls_total", **labels)
        == 1
    )
    monkeypatch.setenv("HROPS_METRICS_CACHE_SECONDS", "0")
    reset_settings()
    fresh, _ = await scrape(http)
    assert value(fresh, "hrops_model_calls_total", **labels) == 2

    monkeypatch.setenv("HROPS_METRICS_ENABLED", "false")
    reset_settings()
    off = await http.get("/metrics")
    assert off.status_code == 404 and "HROPS_METRICS_ENABLED" in off.text


def _free_port_pair() -> int:
    """A port whose successor was free a moment ago (the RPA worker binds base + 1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1] - 1


async def test_a_worker_with_a_metrics_port_serves_temporal_sdk_metrics(
    temporal_env, store_url: str, tmp_path: Path
) -> None:
    base = _free_port_pair()
    env = {
        **os.environ,
        "HROPS_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "HROPS_WORKER_METRICS_PORT": str(base),
        "HROPS_LOG_FORMAT": "json",
    }
    log = (tmp_path / "worker.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hrops", "worker", "--queue", "hrops-rpa"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{base + 1}/metrics"  # hrops-rpa is the second task queue
    try:
        text = ""
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(150):
                assert proc.poll() is None, (tmp_path / "worker.log").read_text()
                try:
                    text = (await client.get(url)).text
                except httpx.HTTPError:
                    text = ""
                # The queue's series appear before its pollers start: wait for a poller.
                if 'task_queue="hrops-rpa"' in text and _rpa_pollers(text) > 0:
                    break
                await asyncio.sleep(0.2)
        assert _rpa_pollers(text) > 0, text[:2000]
        assert f"worker metrics: {url}" in (tmp_path / "worker.log").read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()
    assert proc.returncode == 0


def test_a_taken_metrics_port_stops_the_worker_with_one_line(store_url: str, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "hrops", "worker", "--queue", "hrops-rpa", "--metrics-port", str(port)],
            env={**os.environ, "HROPS_TEMPORAL_ADDRESS": _dead_address()},
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )
    assert proc.returncode == 1, proc.stderr
    assert f"cannot serve worker metrics on 127.0.0.1:{port}" in proc.stderr
    assert "--metrics-port" in proc.stderr and "Traceback" not in proc.stderr
