"""Answers from the policy knowledge base, offline: triage (hand sensitive matters and requests for a
person to HR at once), search what applies to the asker, and quote the best passage's most relevant
sentences with their citation, or hand the question to HR when nothing supports an answer. The
offline answer never writes a sentence of its own about policy: every line it gives is a quote.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tools.knowledge import glossary
from tools.knowledge.corrections import Correction, find_correction
from tools.knowledge.library import detect_language
from tools.knowledge.models import Language
from tools.knowledge.search import Asker, Passage, SearchResult, search
from tools.knowledge.segment import words
from tools.knowledge.triage import Triage
from tools.knowledge.triage_by_meaning import triage_question

# Below these the best passage does not support an answer (tuned on tests/eval/policy_questions.yaml,
# see docs/knowledge.md): coverage is the idf-weighted share of the question's words in the passage,
# confidence its score against a passage holding each asked word once.
MIN_COVERAGE = 0.4
MIN_CONFIDENCE = 0.8
# An English question most of whose weight is in words no policy uses asks about something the
# policies do not cover ("the company helicopter"). Not applied to Chinese: segmentation leaves
# fragments (卡要) that are unseen without meaning anything.
MAX_UNSEEN_EN = 0.6
ALSO_RELEVANT = 0.8  # another passage is cited too when it scores this share of the best
QUOTE_SENTENCES = 3
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s+|(?<=[。！？；])|\n+")

Handoff = Literal["sensitive", "person", "unsupported", "low_confidence"]


class Citation(BaseModel):
    doc_id: str
    version: int
    title: str
    anchor: str
    heading: str
    effective_from: date
    quote: str  # the sentences quoted from it, as they stand in the document

    @property
    def ref(self) -> str:
        return f"{self.doc_id}#{self.anchor}"

    @classmethod
    def of(cls, p: Passage, quoted: list[str]) -> Citation:
        """A passage's citation quoting these of its sentences (kept line by line where it has lines)."""
        return cls(
            doc_id=p.doc_id,
            version=p.version,
            title=p.title,
            anchor=p.anchor,
            heading=p.heading,
            effective_from=p.effective_from,
            quote=("\n" if "\n" in p.text else " ").join(quoted),
        )


class PolicyAnswer(BaseModel):
    question: str
    language: Language
    asked_on: date
    status: Literal["answered", "handed_off"]
    text: str
    citations: list[Citation] = []
    handoff: Handoff | None = None
    category: str | None = None  # for a sensitive hand-off: harassment, health, ...
    # For a hand-off by triage: patterns or meaning, and what decided it (the asker's words matched,
    # or the example the question was nearest), kept in the case for the person who takes it.
    triaged_by: Literal["pattern", "meaning"] | None = None
    triage_why: str | None = None
    coverage: float = 0.0
    confidence: float = 0.0
    unseen: float = 0.0
    support: float | None = None  # the best passage's similarity in meaning (with an embedding index)
    retrieved: list[str] = []  # doc#anchor@version of what the search found, best first (kept in a case)
    draft: str | None = None  # for a hand-off: the quotes it would have given, for HR to start from
    correction: Correction | None = None  # answered from an HR answer saved for this question
    case_id: str | None = None  # the case a hand-off opened (set by the service that opened it)
    written_by: str = "quotes"  # "quotes": the policy text as it stands; else the model that wrote it


def question_language(question: str) -> Language:
    return detect_language([question])


def ask_policy(
    session: Session, question: str, asker: Asker, on: date, *, routed: Triage | None = None
) -> PolicyAnswer:
    """The answer to a policy question; `routed`: its triage, when the caller did it already."""
    language = question_language(question)
    asked = {"question": question, "language": language, "asked_on": on}
    routed = routed or triage_question(session, question)
    if routed.route != "policy":
        handoff: Handoff = "sensitive" if routed.route == "sensitive" else "person"
        return PolicyAnswer(
            **asked,
            status="handed_off",
            text=_handoff_text(handoff, language),
            handoff=handoff,
            category=routed.category,
            triaged_by=routed.by,
            triage_why=routed.why,
        )
    if saved := find_correction(session, question, language, asker):
        return PolicyAnswer(
            **asked, status="answered", text=_correction_text(saved, language), correction=saved
        )
    found = search(session, question, asker, on, language=language)
    measured = {
        "coverage": round(found.coverage, 3),
        "confidence": round(found.confidence, 3),
        "unseen": round(found.unseen, 3),
        "support": found.support,
        "retrieved": [f"{p.citation}@{p.version}" for p in found.passages],
    }
    if (verdict := _supported(found, language)) is not None:
        return PolicyAnswer(
            **asked,
            **measured,
            status="handed_off",
            text=_handoff_text(verdict, language),
            handoff=verdict,
            draft=_answer_text([cite(found.passages[0], found.asked)], language) if found.passages else None,
        )
    best = found.passages[0]
    cited = [best] + [
        p
        for i, p in enumerate(found.passages[1:3], start=1)
        if (i == 1 and found.tied) or (p.score >= ALSO_RELEVANT * best.score and p.doc_id != best.doc_id)
    ]
    citations = [cite(p, found.asked) for p in cited]
    return PolicyAnswer(
        **asked, **measured, status="answered", text=_answer_text(citations, language), citations=citations
    )


def _supported(found: SearchResult, language: Language) -> Handoff | None:
    if not found.passages:
        return "unsupported"
    if found.supported is True:  # close in meaning (embeddings.supports)
        return None
    if found.supported is False:  # the embedding model's calibration decided against it
        return "unsupported" if found.coverage < MIN_COVERAGE else "low_confidence"
    if found.coverage < MIN_COVERAGE:
        return "unsupported"
    if language == "en" and found.unseen >= MAX_UNSEEN_EN:
        return "unsupported"
    if found.confidence < MIN_CONFIDENCE:
        return "low_confidence"
    return None


def cite_sections(
    session: Session, refs: list[str], asker: Asker, on: date, language: Language, question: str
) -> list[Citation]:
    """Citations for sections named doc_id#anchor (a personal answer's policy), in the version in
    force for the asker on `on`; the asker's language twin when there is one."""
    from tools.knowledge.search import family_of, section_in_force

    out: list[Citation] = []
    asked = words(question)
    for ref in refs:
        doc_id, _, anchor = ref.partition("#")
        twin = f"{family_of(doc_id)}.{language}"
        p = section_in_force(session, twin, anchor, asker, on) or section_in_force(
            session, doc_id, anchor, asker, on
        )
        if p is not None:
            out.append(cite(p, asked))
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def cite(p: Passage, asked: list[str]) -> Citation:
    """Quote the passage's sentences that carry most of the question's words (all of it when short)."""
    parts = sentences(p.text)
    if len(parts) > QUOTE_SENTENCES:
        weights = {w: 1.0 for w in asked} | {
            w: glossary.SYNONYM_WEIGHT for w in glossary.expand(asked) if w not in asked
        }
        scored = [(sum(weights.get(w, 0.0) for w in set(words(s))), i) for i, s in enumerate(parts)]
        keep = sorted(
            i for score, i in sorted(scored, key=lambda t: (-t[0], t[1]))[:QUOTE_SENTENCES] if score > 0
        )
        parts = [parts[i] for i in keep] or parts[:QUOTE_SENTENCES]
    return Citation.of(p, parts)


def source_line(c: Citation, language: Language) -> str:
    if language == "zh":
        return f"《{c.title}》「{c.heading}」(第{c.version}版,{c.effective_from.isoformat()} 起生效;{c.ref})"
    return f'{c.title}, "{c.heading}" (version {c.version}, in force from {c.effective_from.isoformat()}; {c.ref})'


def _correction_text(c: Correction, language: Language) -> str:
    day = c.answered_on.isoformat()
    lead = f"HR 于 {day} 答复:" if language == "zh" else f"Answered by HR on {day}:"
    refs = ("\n" + ("参见 " if language == "zh" else "See ") + ", ".join(c.cites)) if c.cites else ""
    return f"{lead}\n{c.answer}{refs}"


def _answer_text(citations: list[Citation], language: Language) -> str:
    lead = "根据" if language == "zh" else "From"
    blocks = []
    for c in citations:
        quoted = "\n".join(f"> {line}" for line in c.quote.splitlines())
        blocks.append(f"{lead} {source_line(c, language)}:\n{quoted}")
    return "\n\n".join(blocks)


HANDOFF_TEXT: dict[Handoff, dict[Language, str]] = {
    "sensitive": {
        "en": "This is something a person in HR should handle with you, in confidence. I have passed your "
        "question to HR ops; someone will contact you. If you are in danger, call local emergency services.",
        "zh": "这个问题需要 HR 同事与您单独、保密地沟通。我已把您的问题转给 HR,稍后会有人联系您。"
        "如遇紧急危险,请立即拨打当地紧急电话。",
    },
    "person": {
        "en": "I have passed your question to HR ops; a person will answer you here.",
        "zh": "已为您转接 HR 同事,稍后会有人在这里回复您。",
    },
    "unsupported": {
        "en": "I found no policy that answers this, so I will not guess. I have passed your question to HR ops.",
        "zh": "没有找到能回答这个问题的制度条款,我不做猜测,已把问题转给 HR。",
    },
    "low_confidence": {
        "en": "The policies I found do not answer this clearly enough to quote. I have passed your question "
        "to HR ops.",
        "zh": "找到的制度条款不足以明确回答这个问题,已把问题转给 HR。",
    },
}


def _handoff_text(kind: Handoff, language: Language) -> str:
    return HANDOFF_TEXT[kind][language]
