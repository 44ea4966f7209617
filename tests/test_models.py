"""Model selection: the offline default, pydantic-ai's test model, and an OpenAI-compatible endpoint
(a local fake server). Every call leaves an audit entry saying what left the machine."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic_ai import Agent, models
from sqlalchemy import select

from agents.change_summary import INSTRUCTIONS, ApprovalSummary, ChangeFacts, facts_prompt, write_offline
from agents.models import build_model, endpoint_of
from hrops.settings import get_settings, reset_settings
from tests.fake_openai import fake_openai
from tools.store.db import session_scope
from tools.store.models import AuditEntry

FACTS = ChangeFacts(
    kind="address_change",
    employee_id="E1003",
    title="Data Engineer",
    org_unit="Platform",
    changed_fields=["line1", "city"],
    effective_on=date(2026, 12, 1),
    requested_by="amy.hughes",
    approvers=["li.wei"],
    rule="the employee's manager approves",
)


def _agent() -> Agent[None, ApprovalSummary]:
    return Agent(
        build_model("change_summary", write_offline), output_type=ApprovalSummary, instructions=INSTRUCTIONS
    )


def _model_calls(url: str) -> list[AuditEntry]:
    with session_scope(url) as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "model.call")))


async def test_offline_model_writes_from_the_facts_only(store_url: str) -> None:
    out = (await _agent().run(facts_prompt(FACTS))).output
    assert out.en.startswith("Home address change for E1003 (Data Engineer, Platform), effective 01 Dec 2026")
    assert "street, city change" in out.en and "li.wei" in out.en
    assert "住址变更" in out.zh and "2026年12月01日" in out.zh
    (call,) = _model_calls(store_url)
    assert call.details["egress"] is False and call.details["endpoint"] == "local"


async def test_offline_model_refuses_a_prompt_without_facts(store_url: str) -> None:
    with pytest.raises(Exception, match="JSON|validation"):
        await _agent().run("write something nice about this change")


async def test_openai_compatible_endpoint(company: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The model answers with the placeholders it was given; the caller gets the real ids back.
    answer = {
        "en": "Address change for <EMPLOYEE_1_ID>.",
        "zh": "<EMPLOYEE_1_ID> 住址变更,<EMPLOYEE_3_USER> 审批。",
    }
    with fake_openai(answer) as (base_url, seen):
        monkeypatch.setenv("HROPS_MODEL", "openai:qwen2.5-72b-instruct")
        monkeypatch.setenv("HROPS_MODEL_BASE_URL", base_url)
        monkeypatch.setenv("HROPS_MODEL_API_KEY", "sk-local")
        monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # local fake server only
        reset_settings()
        out = (await _agent().run(facts_prompt(FACTS))).output
    assert out == ApprovalSummary(en="Address change for E1003.", zh="E1003 住址变更,li.wei 审批。")
    (req,) = seen
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-local"
    assert req["body"]["model"] == "qwen2.5-72b-instruct"
    sent = str(req["body"]["messages"])
    assert "Use only the facts" in sent and '"employee_id": "<EMPLOYEE_1_ID>"' in sent
    assert not {"E1003", "amy.hughes", "li.wei"} & set(sent.replace('"', " ").split())
    (call,) = _model_calls(company)
    assert call.details["endpoint"] == base_url.split("/")[2] and call.details["egress"] is True
    assert call.details["masked"] == {"identity": 3} and call.details["sent"] == {}
    assert (call.details["input_tokens"], call.details["output_tokens"]) == (120, 30)
    assert call.details["bytes_sent"] > 0 and call.entity_type == "model_receipt"


def test_network_models_are_blocked_in_tests(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HROPS_MODEL", "openai:gpt-4o")
    monkeypatch.setenv("HROPS_MODEL_API_KEY", "sk-never-used")
    reset_settings()
    assert endpoint_of(get_settings()) == "openai"
    with pytest.raises(RuntimeError, match="ALLOW_MODEL_REQUESTS"):
        _agent().run_sync(facts_prompt(FACTS))
    assert _model_calls(store_url) == []


def test_test_model_is_selectable(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HROPS_MODEL", "test")
    reset_settings()
    out = _agent().run_sync(facts_prompt(FACTS)).output
    assert isinstance(out, ApprovalSummary)
