"""Generated policy answers (issue 10): with a model configured, an answer written only from the
retrieved passages, every sentence cited; code checks each answer (known passage ids, a citation per
sentence, figures the passages state), asks again, and hands the question to HR when the model
insists or refuses. Every call passes the model gate and leaves a receipt."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from pydantic_ai import models
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo
from sqlalchemy import select

from agents import policy_answer
from agents.policy_answer import GroundedAnswer, Refusal, generate, ground, numbers, to_policy_answer
from hrops.settings import get_settings, reset_settings
from tests.conftest import TODAY, with_handbook
from tests.fake_openai import fake_openai
from tools.knowledge.answer import PolicyAnswer, ask_policy, sentences
from tools.knowledge.asker import asker_for
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import AuditEntry, ModelReceipt

RELOCATION = (
    "Relocation within China is reimbursed up to CNY 30,000 per move. "
    "Claim within 90 days of your start date."
)
MEALS = "Business meals are reimbursed up to CNY 150 per person with a fapiao."
RELOCATION_ZH = "中国境内搬迁每次最高报销人民币 30,000 元。请在入职后 90 天内提交报销。"


def _passage(doc_id: str, anchor: str, heading: str, text: str, language: str = "en") -> Any:
    from tools.knowledge.search import Passage

    return Passage(
        section_id=1,
        doc_id=doc_id,
        version=2,
        title="Travel and expenses" if language == "en" else "差旅及费用报销制度",
        language=language,
        topic="expenses",
        effective_from=date(2026, 1, 1),
        anchor=anchor,
        heading=heading,
        path=[heading],
        text=text,
        score=5.0,
        matched=["relocation"],
    )


EN = [
    _passage("expenses.en", "relocation", "Relocation expenses", RELOCATION),
    _passage("expenses.en", "meals", "Meals", MEALS),
]
ZH = [_passage("expenses.zh", "relocation", "搬迁费用", RELOCATION_ZH, "zh")]
QUESTION = "how much relocation do I get and by when must I claim?"


def _base(question: str = QUESTION, language: str = "en") -> PolicyAnswer:
    return PolicyAnswer(
        question=question,
        language=language,
        asked_on=TODAY,
        status="answered",
        text="From Travel and expenses ...",
        retrieved=["expenses.en#relocation@2"],
    )


def _says(*answers: dict[str, Any]) -> tuple[Callable[..., ModelResponse], list[list[ModelMessage]]]:
    """A scripted model behind the real gate: the i-th call gives answers[i] (the last one again
    when it runs out), a `reason` key choosing the Refusal tool. Returns it and the calls seen."""
    calls: list[list[ModelMessage]] = []

    def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        calls.append(messages)
        args = answers[min(len(calls), len(answers)) - 1]
        tool = "final_result_Refusal" if "reason" in args else "final_result_GroundedAnswer"
        assert tool in {t.name for t in info.output_tools}
        return ModelResponse(parts=[ToolCallPart(tool, args)])

    return model, calls


def _scripted(monkeypatch: pytest.MonkeyPatch, *answers: dict[str, Any]) -> list[list[ModelMessage]]:
    # The offline model slot is where a FunctionModel runs: it still goes through the gate.
    model, calls = _says(*answers)
    monkeypatch.setattr(policy_answer, "answer_offline", model)
    return calls


def _receipts(url: str) -> list[ModelReceipt]:
    with session_scope(url) as s:
        return list(s.scalars(select(ModelReceipt).order_by(ModelReceipt.id)))


def _retries(messages: list[ModelMessage]) -> list[str]:
    """What the model was told when an answer was sent back."""
    return [
        str(p.content)
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, ToolReturnPart) and p.outcome == "retried"
    ]


def test_figures_are_compared_however_they_are_written() -> None:
    assert numbers("up to CNY 30,000 per move") == numbers("最高 30000 元") == numbers("３万元") == {"30000"}
    assert numbers("from 2026-01-05, 1.50 days") == {"2026", "1", "5", "1.5"}
    assert numbers("days 1,2 and 3") == {"1", "2", "3"}  # a list, not a thousands separator
    assert numbers("no figures here.") == set()


async def test_a_grounded_answer_keeps_each_sentence_with_its_citations(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _scripted(
        monkeypatch,
        {
            "sentences": [
                {"text": "Business meals are covered up to CNY 150 per person.", "cites": ["P2"]},
                {"text": "A move within China is reimbursed up to CNY 30000.", "cites": ["P1"]},
                {"text": "Both need a claim.", "cites": ["P1", "P2"]},
            ]
        },
    )
    generated = await generate(QUESTION, "en", EN, get_settings())
    assert isinstance(generated, GroundedAnswer) and len(calls) == 1
    answer = to_policy_answer(_base(), generated, EN)
    assert answer.status == "answered" and answer.handoff is None
    # Markers follow the order of first citation: the meals passage is [1] here.
    assert answer.text.startswith(
        "Business meals are covered up to CNY 150 per person. [1] "
        "A move within China is reimbursed up to CNY 30000. [2] Both need a claim. [2][1]\n\nSources:\n"
        '[1] Travel and expenses, "Meals" (version 2, in force from 2026-01-01; expenses.en#meals)\n> '
        + MEALS
    )
    assert [c.ref for c in answer.citations] == ["expenses.en#meals", "expenses.en#relocation"]
    assert "CNY 30,000 per move" in answer.citations[1].quote
    assert answer.retrieved == ["expenses.en#relocation@2"]  # what the search found is kept
    (receipt,) = _receipts(company)
    assert (receipt.agent, receipt.endpoint, receipt.egress) == ("policy_answer", "local", False)


BAD = {
    "an unknown passage": (
        {"sentences": [{"text": "Relocation is reimbursed up to CNY 30,000.", "cites": ["P7"]}]},
        "sentence 1 cites P7, which is not a given passage (the passages are P1, P2)",
    ),
    "no citation": (
        {"sentences": [{"text": "Relocation is reimbursed up to CNY 30,000.", "cites": []}]},
        "sentence 1 cites no passage",
    ),
    "a figure the passages do not state": (
        {
            "sentences": [
                {"text": "Relocation is reimbursed.", "cites": ["P1"]},
                {"text": "Claim within 60 days.", "cites": ["P1"]},
            ]
        },
        "sentence 2 states 60, which its cited passages (P1) do not",
    ),
    "a figure from a passage it does not cite": (
        {"sentences": [{"text": "Meals are covered up to CNY 30,000.", "cites": ["P2"]}]},
        "sentence 1 states 30000, which its cited passages (P2) do not",
    ),
    "more than five sentences": (
        {"sentences": [{"text": "Claim within 90 days.", "cites": ["P1"]}] * 6},
        "List should have at most 5 items",  # the schema says so (maxItems), before our checks
    ),
    "a passage id in the text": (
        {"sentences": [{"text": "See P1 for relocation.", "cites": ["P1"]}]},
        "sentence 1 names a passage in its text",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
async def test_an_ungrounded_answer_is_sent_back_then_handed_to_hr(
    case: str, company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad, complaint = BAD[case]
    calls = _scripted(monkeypatch, bad)  # the model insists
    generated = await generate(QUESTION, "en", EN, get_settings())
    assert isinstance(generated, Refusal) and complaint in generated.reason
    assert len(calls) == 1 + policy_answer.RETRIES == len(_receipts(company))
    assert complaint in _retries(calls[1])[0]  # the model was told what was wrong
    answer = to_policy_answer(_base(), generated, EN)
    assert (answer.status, answer.handoff, answer.citations) == ("handed_off", "unsupported", [])
    assert "I will not guess" in answer.text and complaint in answer.draft
    assert answer.draft.endswith("From Travel and expenses ...")  # the offline quotes, for HR to start from


async def test_a_model_that_corrects_itself_is_answered(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad, _ = BAD["a figure the passages do not state"]
    good = {"sentences": [{"text": "Claim within 90 days of your start date.", "cites": ["P1"]}]}
    calls = _scripted(monkeypatch, bad, good)
    generated = await generate(QUESTION, "en", EN, get_settings())
    assert generated == GroundedAnswer.model_validate(good) and len(calls) == 2


async def test_a_refusal_hands_the_question_to_hr_with_the_reason(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _scripted(monkeypatch, {"reason": "the passages cover relocation, not a company car"})
    base = _base("do I get a company car?").model_copy(
        update={"status": "handed_off", "handoff": "low_confidence", "draft": "> quoted", "text": "x"}
    )
    answer = await ground(base, EN, get_settings())
    assert (answer.status, answer.handoff) == ("handed_off", "unsupported")
    assert (
        answer.draft
        == "The model did not answer: the passages cover relocation, not a company car\n\n> quoted"
    )


async def test_a_chinese_question_is_answered_in_chinese(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3万 is the passage's 30,000: the figure check reads both.
    _scripted(monkeypatch, {"sentences": [{"text": "境内搬迁每次最高可报销 3 万元。", "cites": ["P1"]}]})
    base = _base("搬家费能报多少?", "zh")
    answer = await ground(base, ZH, get_settings())
    assert answer.status == "answered" and answer.language == "zh"
    assert answer.text.startswith(
        "境内搬迁每次最高可报销 3 万元。[1]\n\n来源:\n"
        "[1] 《差旅及费用报销制度》「搬迁费用」(第2版,2026-01-01 起生效;expenses.zh#relocation)\n> "
    )
    assert "30,000 元" in answer.citations[0].quote


async def test_offline_the_writer_quotes_what_the_extractive_answer_quotes(company: str) -> None:
    from tools.knowledge.search import search

    question = "how many days of annual leave do I get?"
    with_handbook(company)
    with session_scope(company) as s:
        asker = asker_for(s, resolve_principal(s, "wang.fang", TODAY), TODAY)
        extractive = ask_policy(s, question, asker, TODAY)
        passages = search(s, question, asker, TODAY, language="en").passages[:3]
    assert extractive.status == "answered" and get_settings().model == "offline"
    generated = await generate(question, "en", passages, get_settings())
    assert isinstance(generated, GroundedAnswer)
    assert [s.text for s in generated.sentences] == sentences(extractive.citations[0].quote)
    assert {c for s in generated.sentences for c in s.cites} == {"P1"}
    # With no model configured the knowledge service keeps the offline answer: nothing to generate.
    with session_scope(company) as s:
        assert policy_answer.passages_for_model(s, extractive, asker, get_settings()) == []


def _remote(monkeypatch: pytest.MonkeyPatch, base_url: str) -> None:
    monkeypatch.setenv("HROPS_MODEL", "openai:qwen2.5-72b-instruct")
    monkeypatch.setenv("HROPS_MODEL_BASE_URL", base_url)
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # the local fake server only
    reset_settings()


async def test_a_remote_model_sees_only_the_question_and_policy_text(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the real OpenAI provider (a local fake endpoint): the seeded handbook, an employee's
    question, the passages the service would give the model; the prompt names nobody, the first
    answer is sent back for a figure no passage states and the second is answered."""

    question = "how many days of annual leave do I get?"
    with_handbook(company)
    replies = [
        {"sentences": [{"text": "You get 47 days of annual leave.", "cites": ["P1"]}]},
        {"sentences": [{"text": "Annual leave follows the policy.", "cites": ["P1"]}]},
    ]
    with fake_openai(lambda body: replies[min(len(seen), 2) - 1]) as (base_url, seen):
        _remote(monkeypatch, base_url)
        with session_scope(company) as s:
            asker = asker_for(s, resolve_principal(s, "wang.fang", TODAY), TODAY)
            base = ask_policy(s, question, asker, TODAY)
            passages = policy_answer.passages_for_model(s, base, asker, get_settings())
        answer = await ground(base, passages, get_settings())
    assert 1 <= len(passages) <= policy_answer.MODEL_PASSAGES and answer.status == "answered"
    assert answer.text.startswith("Annual leave follows the policy. [1]\n\nSources:\n[1] ")
    assert answer.citations[0].ref == passages[0].citation
    first = seen[0]["body"]
    assert [t["function"]["name"] for t in first["tools"]] == [
        "final_result_GroundedAnswer",
        "final_result_Refusal",
    ]
    prompt = json.loads(first["messages"][-1]["content"])
    assert set(prompt) == {"question", "language", "passages"} and prompt["question"] == question
    assert [p["id"] for p in prompt["passages"]] == [f"P{i}" for i in range(1, len(passages) + 1)]
    assert set(prompt["passages"][0]) == {"id", "title", "heading", "version", "effective_from", "text"}
    sent = json.dumps([r["body"]["messages"] for r in seen], ensure_ascii=False)
    for personal in ("Wang", "王芳", "E1003", "wang.fang"):  # policy text may name cities
        assert personal not in sent, personal
    assert "sentence 1 states 47" in json.dumps(seen[1]["body"]["messages"])  # the retry said why
    receipts = _receipts(company)
    assert [(r.agent, r.egress) for r in receipts] == [("policy_answer", True)] * 2
    with session_scope(company) as s:
        calls = s.scalars(select(AuditEntry).where(AuditEntry.action == "model.call")).all()
    assert sorted(int(c.entity_id) for c in calls) == [r.id for r in receipts]


async def test_an_unreachable_model_leaves_the_offline_answer(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    _remote(monkeypatch, f"http://127.0.0.1:{port}/v1")
    base = _base()
    assert await ground(base, EN, get_settings()) == base


async def test_only_answers_the_search_stands_behind_go_to_the_model(
    company: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.knowledge.search import Asker

    _remote(monkeypatch, "http://127.0.0.1:9/v1")
    settings = get_settings()
    sensitive = _base().model_copy(update={"status": "handed_off", "handoff": "sensitive"})
    unsupported = _base().model_copy(update={"status": "handed_off", "handoff": "unsupported"})
    with session_scope(company) as s:
        for base in (sensitive, unsupported):
            assert policy_answer.passages_for_model(s, base, Asker(), settings) == []
