"""Egress receipts are viewable per request (API, console, CLI) and exportable (admins): with the
offline model they say nothing left; with a remote one they show the bytes, the endpoint and what
was masked, and the export holds exactly what was sent."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from typer.testing import CliRunner

from agents.assistant.intake_agent import read_message
from hrops import request_service as svc
from hrops.api import auth
from hrops.api.app import app
from hrops.cli import app as cli
from hrops.settings import get_settings
from tests.conftest import TODAY
from tests.fake_openai import fake_openai
from tests.test_record_change_workflow import NEW_HOME
from tests.test_redaction import _model_answer, _remote

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    """Exit code and what the person reads (an expected refusal is raised as CliError in-process)."""
    result = runner.invoke(cli, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.output + (str(result.exception) if result.exception else "")


def _as(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth.issue(get_settings(), user)}"}


async def test_a_request_shows_its_model_calls_to_whoever_may_follow_it(temporal_env, main_worker) -> None:
    client = temporal_env.client
    sub = await svc.submit_address_change(client, svc.principal("wang.fang"), "E1003", NEW_HOME)
    await svc.wait_for_stage(client, sub.request_id, {"awaiting_approval"})
    app.state.client = client
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hrops") as api:
            url = f"/api/requests/{sub.request_id}/receipts"
            (call,) = (await api.get(url, headers=_as("li.wei"))).json()  # the approver
            assert (call["agent"], call["endpoint"], call["egress"], call["bytes_sent"]) == (
                "change_summary",
                "local",
                False,
                0,
            )
            assert call["request_id"] == sub.request_id and call["sent_text"] is None
            assert (await api.get(url, headers=_as("chen.jing"))).status_code == 404  # not in the chain
            assert (await api.get("/api/receipts", headers=_as("amy.hughes"))).status_code == 403
            export = await api.get("/api/receipts?format=csv", headers=_as("admin"))
            rows = list(csv.DictReader(io.StringIO(export.text)))
            assert [(r["agent"], r["egress"], r["request_id"]) for r in rows] == [
                ("change_summary", "False", sub.request_id)
            ]
    finally:
        app.state.client = None
    code, out = _cli("receipts", "list", "--request", sub.request_id, "--as", "amy.hughes")
    assert code == 0 and "1 model calls; nothing left the machine" in out
    code, out = _cli("receipts", "list", "--as", "wang.fang")
    assert code == 1 and "needs the hr_ops or admin role" in out


async def test_a_remote_call_is_exported_with_exactly_what_was_sent(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_openai(_model_answer) as (base_url, seen):
        _remote(monkeypatch, base_url)
        await read_message(
            "change 王芳's home address to 1 Jinke Road, Shanghai 201203", TODAY, get_settings()
        )
    host = base_url.split("/")[2]
    code, out = _cli("receipts", "list", "--egress-only", "--as", "amy.hughes")
    assert code == 0 and host in out and "masked 1 identity, 3 personal" in out and "1 sent data off" in out
    assert _cli("receipts", "export", "--as", "amy.hughes")[0] == 1  # admins only
    code, out = _cli("receipts", "export", "--format", "json", "--as", "admin")
    (receipt,) = json.loads(out)
    user_prompt = seen[0]["body"]["messages"][-1]["content"]
    assert (
        user_prompt in receipt["sent_text"]
        and "<EMPLOYEE_1>" in user_prompt
        and "王芳" not in receipt["sent_text"]
    )
    assert receipt["masked"] == {"identity": 1, "personal": 3} and receipt["bytes_sent"] == len(
        receipt["sent_text"].encode()
    )
    code, out = _cli("receipts", "show", str(receipt["id"]), "--as", "admin")
    assert code == 0 and f'"endpoint": "{host}"' in out
    assert _cli("receipts", "show", "99", "--as", "admin") == (
        1,
        "no receipt 99: `hrops receipts list` shows their numbers",
    )
    assert "'May' is not a date" in _cli("receipts", "list", "--since", "May", "--as", "admin")[1]
