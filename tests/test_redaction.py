"""The redaction gate: no classified value reaches a remote model in any built-in flow, the answers
come back re-filled, the endpoint's policy decides what may pass, and every call leaves a receipt.

The remote model is a local OpenAI-compatible server (tests/fake_openai.py) that answers like a
model would: with the placeholders it was given. Everything it received is checked against every
classified value in the store and every value typed in the messages."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest
from pydantic_ai import models
from sqlalchemy import select

from agents.assistant.intake_agent import read_message
from agents.change_summary import ChangeFacts, facts_prompt, summary_agent
from agents.form_mapper import match_pages
from hrops import analytics_service
from hrops import onboarding_service as onb
from hrops import request_service as svc
from hrops.settings import get_settings, reset_settings
from tests.conftest import TODAY, terminate_running
from tests.fake_openai import fake_openai
from tests.test_onboarding import OFFER, catalogue  # noqa: F401  (fixture)
from tests.test_record_change_workflow import NEW_HOME
from tests.test_worker_kill import _worker
from tools.legacy.drift import PageSurvey
from tools.onboarding.schemas import NewHire
from tools.privacy.classes import DataClass
from tools.privacy.lexicon import MATCHED, NOT_MATCHED, Lexicon, read_values
from tools.privacy.redaction import PLACEHOLDER, Hint, Redactor
from tools.store.classification import Classification
from tools.store.db import session_scope
from tools.store.models import AuditEntry, Base, Employee, ModelReceipt
from workflows.approvals import Verdict

# Typed in chat for the first time: the store does not know them, the reader and the patterns do.
TYPED = {
    "phone": "13912345678",
    "national_id": "110101199003071234",
    "private_mail": "fang.home@example.org",
    "street": "1 Jinke Road",
}
MESSAGES = [
    "change 王芳's home address to 1 Jinke Road, Shanghai 201203 from 1 Dec 2026",
    "raise Wang Fang's salary to 36万 CNY from 1 January 2027",
    f"E1003's phone is {TYPED['phone']} and her ID card is {TYPED['national_id']}, mail {TYPED['private_mail']}",
    "how many people did li.wei hire last year?",
]


def _model_answer(body: dict[str, Any]) -> dict[str, Any]:
    """A well-behaved model: it uses the placeholders of the prompt where the values belong."""
    system = " ".join(m["content"] for m in body["messages"] if m["role"] == "system")
    user = [m["content"] for m in body["messages"] if m["role"] == "user"][-1]
    seen = PLACEHOLDER.findall(user)
    first = seen[0] if seen else "nobody"
    if "onboarding plan" in system:
        return {
            "goals_30": [f"Meet {first}"],
            "goals_60": ["Deliver"],
            "goals_90": ["Own the work"],
            "courses": [],
            "buddy_id": None,
            "welcome_en": f"Welcome, {first}!",
            "welcome_zh": f"欢迎{first}!",
        }
    if "approver reads" in system:
        return {"en": f"Change for {first}.", "zh": f"{first} 的变更。"}
    if "chat message to an HR operations assistant" in system:
        fields = {}
        for name, kinds in (
            ("employee", ("<EMPLOYEE_", "<PERSON_")),
            ("line1", ("<ADDRESS_",)),
            ("amount", ("<PAY_",)),
        ):
            if found := [p for p in seen if p.startswith(kinds)]:
                fields[name] = found[0]
        return {"language": "en", "intent": "request", "kind": "address_change", "fields": fields}
    if "legacy web form changed" in system:
        return {"picks": []}
    return {"metrics": ["hires"], "period": {"relative": "last_year"}}


def _remote(monkeypatch: pytest.MonkeyPatch, base_url: str, may_see: dict | None = None) -> dict[str, str]:
    env = {
        "HROPS_MODEL": "openai:remote-llm",
        "HROPS_MODEL_BASE_URL": base_url,
        "HROPS_MODEL_API_KEY": "sk-local",
        "HROPS_MODEL_MAY_SEE": json.dumps(may_see or {}),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # the local fake server only
    reset_settings()
    return env


def _classified_values(url: str) -> set[str]:
    with session_scope(url) as s:
        return set(read_values(s)) | {v.lower() for v in TYPED.values()}


def _leaks(sent: str, values: set[str]) -> list[str]:
    text = sent.lower()
    found = []
    for value in values:
        if value.isascii():
            if re.search(rf"(?<![a-z0-9]){re.escape(value)}(?![a-z0-9])", text):
                found.append(value)
        elif value in text:
            found.append(value)
    return sorted(found)


async def test_no_classified_value_reaches_a_remote_model_in_any_built_in_flow(
    temporal_env,
    catalogue,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = catalogue
    client = temporal_env.client
    with fake_openai(_model_answer) as (base_url, seen):
        env = _remote(monkeypatch, base_url)
        # Chat intake and data questions run in the API process.
        readings = [await read_message(m, TODAY, get_settings()) for m in MESSAGES[:3]]
        asked = await analytics_service.ask(svc.principal("admin"), MESSAGES[3])
        # The form mapper sees a changed legacy page whose labels carry a name and an e-mail.
        survey = PageSurvey.model_validate(
            {
                "page": "employee_form",
                "controls": [
                    {"index": 0, "kind": "text", "label": "Contact for 王芳 (wang.fang@acme.example)"}
                ],
                "missing": [],
            }
        )
        await match_pages([survey])
        # Onboarding plans and approval summaries are written in workflows on a worker process.
        worker = _worker(temporal_env, env=env)
        try:
            hire = await onb.submit_onboarding(client, svc.principal("admin"), NewHire(**OFFER))
            await svc.wait_for_stage(client, hire.request_id, {"awaiting_approval"}, timeout=60)
            await svc.decide(client, hire.request_id, svc.principal("amy.hughes"), Verdict.APPROVE)
            plan = await svc.wait_for_stage(client, hire.request_id, {"awaiting_plan_approval"}, timeout=90)
            change = await svc.submit_address_change(client, svc.principal("amy.hughes"), "E1003", NEW_HOME)
            summary = await svc.wait_for_stage(client, change.request_id, {"awaiting_approval"}, timeout=60)
        finally:
            worker.kill()
            worker.wait(timeout=10)
            await terminate_running(client)

    agents = {"intake_reader", "analytics_reader", "form_mapper", "onboarding_plan", "change_summary"}
    with session_scope(url) as s:
        receipts = list(s.scalars(select(ModelReceipt).order_by(ModelReceipt.id)))
        new_hire = s.get(Employee, plan.employee_id)
    assert {r.agent for r in receipts} == agents and len(receipts) == len(seen) == 7
    # Nothing classified left: not a name, id, username, e-mail, phone, ID number, address or pay figure.
    values = _classified_values(url)
    assert {"王芳", "wang fang", "e1003", "li.wei", "300000", "88 century avenue", "张磊"} <= values
    for request in seen:
        sent = json.dumps(request["body"]["messages"], ensure_ascii=False)
        assert _leaks(sent, values) == [], sent
    # Each receipt holds exactly what the endpoint received, and what was masked.
    for receipt, request in zip(receipts, seen, strict=True):
        prompt = request["body"]["messages"][-1]["content"]  # the agent's prompt, as the endpoint got it
        assert prompt in receipt.sent_text
        assert receipt.egress and receipt.bytes_sent > 0 and receipt.endpoint == base_url.split("/")[2]
        for piece in PLACEHOLDER.findall(json.dumps(request["body"]["messages"], ensure_ascii=False)):
            assert piece in receipt.sent_text
    intake = Counter()
    for r in receipts:
        if r.agent == "intake_reader":
            intake.update(r.masked)
    assert intake == {"identity": 3, "personal": 5, "pay": 1, "national_id": 1}

    # The answers came back with the real values, placeholders re-filled locally.
    address, raise_, contact = readings
    assert address.intake.fields["employee"] == "王芳" and address.intake.fields["line1"] == "1 Jinke Road"
    assert raise_.intake.fields["employee"] == "Wang Fang"
    assert contact.intake.fields["employee"] == "E1003"
    assert asked.answer and "<" not in asked.answer
    assert plan.plan.welcome_en == f"Welcome, {new_hire.id}!"  # the plan's first placeholder is the hire's id
    assert summary.summary.en.startswith("Change for ") and "<" not in summary.summary.en
    with session_scope(url) as s:
        calls = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "model.call")))
    assert sorted(int(c.entity_id) for c in calls) == [r.id for r in receipts]


async def test_an_endpoint_allowed_identity_sees_names_but_nothing_else(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_openai(_model_answer) as (base_url, seen):
        host = base_url.split("/")[2]
        _remote(monkeypatch, base_url, may_see={host: ["identity"], "*": []})
        reading = await read_message(MESSAGES[1], TODAY, get_settings())
    sent = json.dumps(seen[0]["body"]["messages"], ensure_ascii=False)
    assert "Wang Fang" in sent and "36万" not in sent and "<PAY_1>" in sent
    assert reading.offline.fields["employee"] == "Wang Fang"
    with session_scope(company) as s:
        (receipt,) = s.scalars(select(ModelReceipt))
    assert (
        receipt.allowed == ["identity"] and receipt.sent == {"identity": 1} and receipt.masked == {"pay": 1}
    )


def test_offline_model_calls_leave_a_zero_egress_receipt(company: str) -> None:
    from agents.change_summary import summary_agent as agent

    facts = ChangeFacts(
        kind="address_change",
        employee_id="E1003",
        changed_fields=["line1"],
        effective_on=TODAY,
        requested_by="amy.hughes",
        approvers=["li.wei"],
        rule="manager",
    )
    assert "E1003" in agent.run_sync(facts_prompt(facts)).output.en  # the offline writer sees the facts
    with session_scope(company) as s:
        (receipt,) = s.scalars(select(ModelReceipt))
    assert (receipt.endpoint, receipt.egress, receipt.bytes_sent, receipt.sent_text) == (
        "local",
        False,
        0,
        None,
    )
    assert receipt.masked == {} and receipt.sent == {}


def _redactor(url: str, allowed: frozenset[DataClass] = frozenset(), hints=()) -> Redactor:  # noqa: ANN001
    with session_scope(url) as s:
        return Redactor(Lexicon(read_values(s)), allowed, hints)


def test_masking_is_consistent_and_reversible(company: str) -> None:
    r = _redactor(company, hints=[Hint("Zhang Lei", DataClass.IDENTITY, "name")])
    text = (
        "王芳 (E1003, wang.fang@acme.example) earns 300,000 CNY; band max 36万. Ask li.wei or Zhang Lei. "
        "Call +86 139 1234 5678 or 010-62345678; SSN 123-45-6789; Wang Fang again, WANG FANG too."
    )
    masked = r.mask(text)
    assert masked == (
        "<EMPLOYEE_1> (<EMPLOYEE_1_ID>, <EMPLOYEE_1_EMAIL>) earns <PAY_1>; band max <PAY_2>. Ask "
        "<EMPLOYEE_2_USER> or <PERSON_1>. Call <PHONE_1> or <PHONE_2>; SSN <NATIONAL_ID_1>; <EMPLOYEE_1_2> "
        "again, <EMPLOYEE_1_2> too."
    )
    assert r.masked == {"identity": 6, "pay": 2, "personal": 2, "national_id": 1}
    for value in ("王芳", "E1003", "wang.fang", "300,000", "36万", "li.wei", "Zhang Lei", "6789", "62345678"):
        assert value not in masked
    assert r.refill(masked) == text.replace("WANG FANG", "Wang Fang")
    assert r.refill({"a": [masked, 3]}) == {"a": [r.refill(masked), 3]}
    assert r.refill("<EMPLOYEE_9> is not ours") == "<EMPLOYEE_9> is not ours"  # an invented one stays visible


def test_words_inside_other_words_are_not_masked(company: str) -> None:
    r = _redactor(company)
    assert r.mask("Tomorrow the Amyloid study; E10030 and 1300000 are other numbers") == (
        "Tomorrow the Amyloid study; E10030 and 1300000 are other numbers"
    )


def test_every_classified_column_is_matched_or_explained() -> None:
    """A new classified column must be added to the lexicon or be said why it cannot be matched."""
    matched = {f"{c.class_.__tablename__}.{c.key}" for c in MATCHED}
    undecided = [
        f"{table.name}.{col.name}"
        for table in Base.metadata.sorted_tables
        for col in table.columns
        if col.info.get("classification") in (Classification.PERSONAL, Classification.SENSITIVE)
        and f"{table.name}.{col.name}" not in matched | set(NOT_MATCHED)
    ]
    assert undecided == [], f"add these to MATCHED or NOT_MATCHED in tools/privacy/lexicon.py: {undecided}"


def test_an_unknown_data_class_in_the_policy_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    from typing import get_args

    from hrops.settings import DataClassName

    assert set(get_args(DataClassName)) == {c.value for c in DataClass}
    monkeypatch.setenv("HROPS_MODEL_MAY_SEE", '{"vllm:8000": ["names"]}')
    reset_settings()
    with pytest.raises(
        ValueError, match=r"(?s)model_may_see.*Input should be 'identity', 'personal'.*'names'"
    ):
        get_settings()


def test_summary_agent_is_wrapped_by_the_gate() -> None:
    from agents.gate import GatedModel

    assert isinstance(summary_agent.model, GatedModel)
