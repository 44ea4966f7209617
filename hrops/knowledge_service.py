"""The policy knowledge base for the CLI, the API and the demo: import documents, list them, and
answer a policy question for the person asking (their country, location and group, on today's
date unless another is given). Every import and every answer leaves an audit entry with ids and
citations only, never the question's words."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from agents import policy_answer
from hrops.clock import today
from hrops.settings import Settings, get_settings
from tools.knowledge import cases, embeddings
from tools.knowledge.answer import PolicyAnswer, ask_policy, cite_sections, question_language, source_line
from tools.knowledge.asker import asker_for
from tools.knowledge.library import (
    DocumentVersion,
    ImportOutcome,
    KnowledgeError,
    MetaOverrides,
    import_documents,
    list_documents,
    require_editor,
)
from tools.knowledge.personal import asks_for_a_figure, personal_answer
from tools.knowledge.triage_by_meaning import triage_question
from tools.store import audit
from tools.store.db import session_scope
from tools.store.identity import Principal


def import_files(
    who: Principal,
    paths: list[Path],
    overrides: MetaOverrides | None = None,
    settings: Settings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ImportOutcome]:
    """Import, then embed the new sections (nothing when embeddings are off); `progress(done, total)`
    is told as sections are embedded."""
    settings = settings or get_settings()
    with session_scope(settings.db_url, write=True) as session:
        outcomes = import_documents(session, who, paths, overrides)
    embeddings.index_after_import(settings, progress)
    return outcomes


def reindex(
    who: Principal, settings: Settings | None = None, progress: Callable[[int, int], None] | None = None
) -> embeddings.EmbedOutcome:
    """Embed every section that has no vector by the configured model's current recipe (after the
    model or its recipe changed, or an import whose embedding failed), instead of leaving them to
    be embedded a few hundred a question. HR ops and admins only."""
    require_editor(who)
    settings = settings or get_settings()
    if not settings.embedding_model:
        raise KnowledgeError(
            "no embedding model is set (HROPS_EMBEDDING_MODEL is empty): the policy search uses word "
            "matching only and there is nothing to index; set it, e.g. local:multilingual-e5-small"
        )
    return embeddings.index_after_import(settings, progress)


def documents(
    on: date | None = None, *, history: bool = False, settings: Settings | None = None
) -> list[DocumentVersion]:
    settings = settings or get_settings()
    with session_scope(settings.db_url) as session:
        return list_documents(session, on or today(), history=history)


def ask(
    who: Principal, question: str, on: date | None = None, settings: Settings | None = None
) -> PolicyAnswer:
    settings = settings or get_settings()
    day = on or today()
    language = question_language(question)
    with session_scope(settings.db_url) as session:
        asker = asker_for(session, who, day)
        # Once, in a read session (by meaning it may embed: no write lock held while it runs).
        routed = triage_question(session, question, settings)
    # The asker's own figures first (remaining leave, social insurance base, next pay day), read
    # from their record only and audited; a sensitive question goes to a person before that.
    if routed.route == "policy" and asks_for_a_figure(question):
        with session_scope(settings.db_url, write=True) as session:
            if (mine := personal_answer(session, who, question, language, day)) is not None:
                cited = cite_sections(session, mine.cites, asker, day, language, question)
                rules = "\n".join(
                    ("依据 " if language == "zh" else "Policy: ") + source_line(c, language) for c in cited
                )
                answer = PolicyAnswer(
                    question=question,
                    language=language,
                    asked_on=day,
                    status="answered",
                    text=mine.text + (f"\n{rules}" if rules else ""),
                    citations=cited,
                    written_by="your record",
                )
                _audit_answer(session, who, answer, day)
                return answer
    # Read, then the model (it writes its own receipt; no write lock held over a network call),
    # then the writes: the case and the audit entry.
    with session_scope(settings.db_url) as session:
        answer = ask_policy(session, question, asker, day, routed=routed)
        passages = policy_answer.passages_for_model(session, answer, asker, settings)
    if passages:  # a model is configured and there is something to ground an answer in
        answer = asyncio.run(policy_answer.ground(answer, passages, settings))
    with session_scope(settings.db_url, write=True) as session:
        if answer.status == "handed_off":
            answer.case_id = cases.open_case(session, who, answer, asker).case_id
        _audit_answer(session, who, answer, day)
    return answer


def open_cases(
    who: Principal, status: str | None = "open", settings: Settings | None = None
) -> list[cases.Case]:
    settings = settings or get_settings()
    with session_scope(settings.db_url) as session:
        return cases.list_cases(session, who, status)  # type: ignore[arg-type]


def case(who: Principal, case_id: str, settings: Settings | None = None) -> cases.Case:
    settings = settings or get_settings()
    with session_scope(settings.db_url) as session:
        return cases.get_case(session, who, case_id)


def answer_case(
    who: Principal,
    case_id: str,
    text: str,
    *,
    save_as: cases.CorrectionScope | None = None,
    cites: list[str] | None = None,
    settings: Settings | None = None,
) -> cases.Case:
    settings = settings or get_settings()
    with session_scope(settings.db_url, write=True) as session:
        return cases.answer_case(session, who, case_id, text, save_as=save_as, cites=cites)


def _audit_answer(session: Session, who: Principal, answer: PolicyAnswer, day: date) -> None:
    """Ids and citations only: the question's words stay out of the log."""
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="kb.answered" if answer.status == "answered" else "kb.handed_off",
            entity_type="kb_question",
            details={
                "language": answer.language,
                "asked_on": day.isoformat(),
                "cited": [c.ref + f"@{c.version}" for c in answer.citations],
                "handoff": answer.handoff,
                "category": answer.category,
                "case": answer.case_id,
                "correction": answer.correction.correction_id if answer.correction else None,
                "written_by": answer.written_by,
            },
        ),
    )
