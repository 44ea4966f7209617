"""Logs: JSON lines with workflow / activity / user / request context, no personal data."""

from __future__ import annotations

import io
import json
import logging

from hrops import request_service as svc
from hrops.logging import configure_logging, get_logger
from hrops.settings import get_settings
from tests.test_record_change_workflow import NEW_HOME
from workflows.approvals import Verdict


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_json_when_not_a_terminal_and_structlog_context_merges(monkeypatch) -> None:
    stream = io.StringIO()
    configure_logging(get_settings(), stream=stream)
    log = get_logger("hrops.test")
    import structlog

    with structlog.contextvars.bound_contextvars(request_id="REQ-7", user="li.wei"):
        log.info("decision recorded", verdict="approve")
    logging.getLogger("uvicorn.access").info("GET /healthz 200")
    lines = _lines(stream)
    assert lines[0]["event"] == "decision recorded" and lines[0]["request_id"] == "REQ-7"
    assert lines[0]["user"] == "li.wei" and lines[0]["level"] == "info" and "timestamp" in lines[0]
    assert lines[1]["logger"] == "uvicorn.access"


async def test_workflow_and_activity_lines_carry_their_context(temporal_env, main_worker, company) -> None:
    stream = io.StringIO()
    configure_logging(get_settings(), stream=stream)
    client = temporal_env.client
    sub = await svc.submit_address_change(client, svc.principal("amy.hughes"), "E1003", NEW_HOME)
    await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    await svc.decide(client, sub.request_id, svc.principal("li.wei"), Verdict.APPROVE)
    await svc.wait_for_stage(client, sub.request_id, {"completed"})
    lines = _lines(stream)

    stages = [line for line in lines if line["event"] == "request stage"]
    assert {s["stage"] for s in stages} >= {"checking", "awaiting_approval", "completed"}
    assert all(
        s["workflow_id"] == "record-change-E1003-address" and s["run_id"] and s["request_id"] == "REQ-1"
        for s in stages
    )
    applied = next(line for line in lines if line.get("tool") == "employee.apply_change")
    assert applied["activity"] == "tool:employee.apply_change" and applied["user"] == "amy.hughes"
    assert applied["request_id"] == "REQ-1" and applied["workflow_id"] == "record-change-E1003-address"
    text = stream.getvalue()
    for personal in (NEW_HOME.line1, "88 Century Avenue", "王芳"):
        assert personal not in text
