"""Triage by meaning: a sensitive matter told without any of the words triage.yaml looks for, or a wish
for a human in words of one's own, still goes to a person, routine questions near those topics are still answered from the policies, and the
examples' shipped vectors are what the encoder makes of them."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from hrops.settings import Settings, reset_settings
from tests.vectors import same_direction
from tools.knowledge import embeddings, triage_by_meaning
from tools.knowledge.answer import ask_policy
from tools.knowledge.search import Asker
from tools.knowledge.triage import triage
from tools.privacy.receipts import fingerprint
from tools.store.db import session_scope
from tools.store.models import ModelReceipt

sys.path.insert(0, str(Path(__file__).resolve().parent / "eval"))

import policy_eval  # noqa: E402

MODEL = triage_by_meaning.MODEL
SHANGHAI = Asker(country="CN", location="Shanghai", group="staff")
ON = date(2026, 12, 1)

# Told as people tell them, none with a word the patterns know (asserted below).
UNNAMED = [
    (
        "my lead stands right behind my chair every day and comments on my perfume, I dread coming in",
        "harassment",
    ),
    ("同事老是模仿我的口音，大家都笑，我该怎么办", "discrimination"),
    ("自从我跟主管说了我在备孕，就再也不让我参加客户会议了", "discrimination"),
    ("财务让我把几张私人吃饭的发票改成客户招待报掉，我不想做但又怕得罪人", "speaking_up"),
    (
        "my manager told me to sign a resignation letter today or he'd make sure I never work in this industry again",
        "disciplinary",
    ),
]
ASKS_FOR_A_PERSON = [
    "I'd rather go through this with somebody from your team over the phone, who can I ring?",
    "能不能安排人事同事跟我单独聊一次",
]
ROUTINE = [
    ("how many days of sick leave do I get and do I need a doctor's note?", "leave.en#sick-leave"),
    ("病假工资怎么算？", "leave.zh#sick-leave"),
    ("EAP心理咨询要钱吗", "benefits.zh#eap"),
]


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HROPS_EMBEDDING_MODEL", MODEL)  # conftest turns embeddings off
    reset_settings()


@pytest.fixture(scope="module")
def handbook(tmp_path_factory: pytest.TempPathFactory) -> str:
    return policy_eval.handbook_store(tmp_path_factory.mktemp("handbook"), Settings(embedding_model=MODEL))


def _ask(url: str, question: str):  # noqa: ANN202
    with session_scope(url) as s:
        return ask_policy(s, question, SHANGHAI, ON)


def test_a_sensitive_matter_or_a_wish_for_a_human_told_in_other_words_goes_to_a_person(
    model: None, handbook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for question, category in UNNAMED:
        assert triage(question).route == "policy", question  # no pattern knows these words
        answer = _ask(handbook, question)
        assert (answer.status, answer.handoff, answer.category) == ("handed_off", "sensitive", category), (
            question
        )
        assert answer.citations == [] and answer.draft is None  # nothing quoted at someone in distress
    for question in ASKS_FOR_A_PERSON:
        assert triage(question).route == "policy", question
        assert _ask(handbook, question).handoff == "person", question
    for question, section in ROUTINE:
        answer = _ask(handbook, question)
        assert answer.status == "answered" and answer.citations[0].ref == section, question

    # Without an embedding model the patterns alone decide: the search gets the question.
    monkeypatch.setenv("HROPS_EMBEDDING_MODEL", "")
    reset_settings()
    assert _ask(handbook, UNNAMED[0][0]).handoff != "sensitive"


def test_the_examples_ship_their_vectors_and_a_new_example_is_embedded_with_a_receipt(
    model: None, handbook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.knowledge.local_embedding import _encode

    special, routine = triage_by_meaning.examples().texts()
    texts = [t for _, t in special] + routine
    missing = [t for t in texts if embeddings._remembered(MODEL, t, "query") is None]
    assert not missing, (
        f"{len(missing)} examples have no shipped vector (e.g. {missing[0][:60]!r}): "
        "run .venv/bin/python -m tools.knowledge.triage_by_meaning"
    )
    for text in (texts[0], texts[-1]):
        shipped = embeddings._remembered(MODEL, text, "query")
        assert shipped is not None and same_direction(
            _encode(MODEL.partition(":")[2], [text], "query")[0], shipped
        )

    # An example HR added since: embedded when first needed, as an audited model call.
    added = "the new guy keeps leaving notes on my desk about how I should smile more"
    more = triage_by_meaning.examples().model_copy(deep=True)
    more.sensitive["harassment"]["en"].append(added)
    monkeypatch.setattr(triage_by_meaning, "examples", lambda: more)
    asked = "a colleague keeps leaving notes on my desk telling me I should smile more"
    with session_scope(handbook) as s:
        routed = triage_by_meaning.by_meaning(s, asked, Settings(embedding_model=MODEL))
    assert routed is not None and routed.category == "harassment" and routed.example == added
    with session_scope(handbook) as s:
        calls = s.scalars(
            select(ModelReceipt.prompt_sha256).where(ModelReceipt.agent == embeddings.AGENT)
        ).all()
    assert fingerprint(f"[query] {added}") in calls
