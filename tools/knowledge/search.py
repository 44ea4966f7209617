"""Lexical retrieval over policy sections (BM25), offline and bilingual, filtered to what applies to
the asker: the document version in force on the day asked, and a scope that includes the asker's
country, location and employee group.

The index holds every section of every imported version and is rebuilt when the knowledge base
changes (a new import bumps the highest document id); filtering happens per question, so one index
serves every asker and every date.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, defaultdict
from datetime import date

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrops.settings import get_settings
from tools.knowledge import embeddings, glossary
from tools.knowledge.library import in_force, stored_meta
from tools.knowledge.models import DocumentMeta, DocumentScope, Language
from tools.knowledge.places import mentions, names_of
from tools.knowledge.segment import words
from tools.store.models import KbDocument, KbSection

K1, B = 1.2, 0.75
HEADING_WEIGHT = 4  # a word in the heading counts as three in the body: headings name the rule
# A section's score blends the whole section with its best paragraph: a question usually asks
# about one paragraph of a long section, and a long overview section should not win on volume.
WHOLE_SHARE = 0.5
LABEL_BOOST = 2.0  # how much more a section counts whose heading and keywords hold all the asked words
KEYWORD_WEIGHT = 2  # the author's keywords for a section (see sections.KEYWORDS_LINE)
PARAGRAPH_MIN = 120  # characters; shorter paragraphs join the next
OTHER_LANGUAGE = 0.85  # a passage in the other language than the question's ranks a little lower
# The more specific rule wins: a document written for the asker's location (or group) outranks the
# general one that it details or overrides, as a city rule does a national one.
SPECIFIC = {"locations": 1.3, "groups": 1.2, "countries": 1.1}
# A section whose heading names places (see places.py): the asker's own place ranks it up, only
# other places rank it well down (it is another country's rule, but may still be the nearest text).
HEADING_HERE, HEADING_ELSEWHERE = 1.25, 0.5


class Asker(BaseModel):
    """Whom an answer is for. None on an axis: not restricted on it (HR staff without an employee
    record looking up any rule); an employee always has all three."""

    country: str | None = None
    location: str | None = None
    group: str | None = None

    def covers(self, scope: DocumentScope) -> bool:
        return (
            (not scope.countries or self.country is None or self.country in scope.countries)
            and (not scope.locations or self.location is None or self.location in scope.locations)
            and (not scope.groups or self.group is None or self.group in scope.groups)
        )


class Passage(BaseModel):
    """A section found for a question, with what identifies it for a citation."""

    section_id: int
    doc_id: str
    version: int
    title: str
    language: Language
    topic: str
    effective_from: date
    anchor: str
    heading: str
    path: list[str]
    text: str
    score: float
    matched: list[str]  # the question's own words found in it
    fused: float | None = None  # its value in the fused ranking (embeddings.fuse); None: words alone

    @property
    def family(self) -> str:
        """The document without its language suffix: leave.en and leave.zh are one policy."""
        return family_of(self.doc_id)

    @property
    def citation(self) -> str:
        return f"{self.doc_id}#{self.anchor}"


class SearchResult(BaseModel):
    passages: list[Passage]
    asked: list[str]  # the question's words
    coverage: float  # idf-weighted share of the question's words found in the best passage
    confidence: float  # the best score against what a passage holding every asked word once would get
    unseen: float = 0.0  # idf-weighted share of the question's words that no policy uses at all
    # The best passage's cosine similarity to the question in the embedding index; None without one.
    support: float | None = None
    # Whether the best passage supports an answer by the embedding model's calibration (similarity
    # and words together, embeddings.supports); None: the word test in answer.py decides.
    supported: bool | None = None
    # The ranking cannot tell the runner-up from the best (Calibration.tie): both are quoted.
    tied: bool = False


def family_of(doc_id: str) -> str:
    head, _, tail = doc_id.rpartition(".")
    return head if head and tail in ("en", "zh") else doc_id


class _Doc(DocumentMeta):
    """A document version as the index keeps it: plain values, not rows tied to a session."""

    id: int
    version: int


class _Section(BaseModel):
    id: int
    document_id: int
    anchor: str
    heading: str
    path: list[str]
    text: str
    keywords: list[str] = []


class _Entry(BaseModel):
    section_id: int
    document_id: int
    length: int


class _Layer:
    """BM25 postings over units of text (whole sections, or their paragraphs)."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.avgdl = 1.0

    def add(self, section: _Section, tokens: list[str]) -> None:
        i = len(self.entries)
        self.entries.append(
            _Entry(section_id=section.id, document_id=section.document_id, length=len(tokens))
        )
        for w, tf in Counter(tokens).items():
            self.postings[w].append((i, tf))

    def done(self) -> None:
        self.avgdl = sum(e.length for e in self.entries) / (len(self.entries) or 1)

    def scores(
        self, weights: dict[str, float], idf: dict[str, float], allowed: set[int]
    ) -> tuple[dict[int, float], dict[int, list[str]]]:
        """Per section id: the best score of its units, and the searched words they hold."""
        unit: dict[int, float] = defaultdict(float)
        hits: dict[int, list[str]] = defaultdict(list)
        for w, weight in weights.items():
            for i, tf in self.postings.get(w, ()):
                entry = self.entries[i]
                if entry.document_id not in allowed:
                    continue
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * entry.length / self.avgdl))
                unit[i] += weight * idf[w] * norm
                hits[entry.section_id].append(w)
        best: dict[int, float] = {}
        for i, score in unit.items():
            sid = self.entries[i].section_id
            best[sid] = max(best.get(sid, 0.0), score)
        return best, {sid: list(dict.fromkeys(ws)) for sid, ws in hits.items()}


def _paragraphs(text: str) -> list[str]:
    """A section's paragraphs, short ones joined to the next so that a unit says something."""
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        if out and len(out[-1]) < PARAGRAPH_MIN:
            out[-1] += "\n" + para
        else:
            out.append(para)
    return [p for p in out if p.strip()]


class _Memo(dict[str, list[str]]):
    def __call__(self, text: str) -> list[str]:
        if text not in self:
            self[text] = words(text)
        return self[text]


class _Index:
    def __init__(self, docs: list[_Doc], sections: list[_Section]) -> None:
        self.docs = {d.id: d for d in docs}
        self.sections = {s.id: s for s in sections}
        self.by_anchor = {(s.document_id, s.anchor): s for s in sections}
        self.whole, self.parts = _Layer(), _Layer()
        segmented = _Memo()  # titles and heading trails repeat across sections and versions
        for s in sections:
            doc = self.docs[s.document_id]
            label = (
                segmented(doc.title)
                + segmented(" ".join(s.path[:-1]))
                + segmented(s.heading) * HEADING_WEIGHT
                + words(" ".join(s.keywords)) * KEYWORD_WEIGHT
            )
            # Each paragraph is segmented once: the whole section is their sum.
            paragraphs = [words(para) for para in _paragraphs(s.text)]
            self.whole.add(s, label + [w for para in paragraphs for w in para])
            for para in paragraphs:
                self.parts.add(s, label + para)
        self.whole.done()
        self.parts.done()
        # What each section's author says it is about: its heading and keywords.
        self.labels = {
            s.id: frozenset(segmented(s.heading)) | frozenset(words(" ".join(s.keywords))) for s in sections
        }
        self.places = {s.id: m for s in sections if (m := mentions(s.heading))}
        # The languages each policy is written in (leave: en and zh; UK statutory pay: en only).
        self.languages: dict[str, set[str]] = defaultdict(set)
        for d in docs:
            self.languages[family_of(d.doc_id)].add(d.language)
        n = len(self.whole.entries) or 1
        # An unseen word is rarer than any seen one: it counts fully against coverage.
        self.idf = {
            w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.whole.postings.items()
        }
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def idf_of(self, word: str) -> float:
        return self.idf.get(word, self.unseen_idf)


_cache: dict[str, tuple[tuple[int, int], _Index]] = {}
_cache_lock = threading.Lock()


def _index(session: Session) -> _Index:
    """The index of this store, rebuilt only when documents were added since it was built."""
    key = str(session.get_bind().url)
    stamp = session.execute(
        select(func.coalesce(func.max(KbDocument.id), 0), func.count(KbDocument.id))
    ).one()
    stamp = (int(stamp[0]), int(stamp[1]))
    with _cache_lock:
        hit = _cache.get(key)
        if hit and hit[0] == stamp:
            return hit[1]
    docs = [_Doc(id=d.id, version=d.version, **stored_meta(d)) for d in session.scalars(select(KbDocument))]
    sections = [
        _Section(
            id=r.id,
            document_id=r.document_id,
            anchor=r.anchor,
            heading=r.heading,
            path=list(r.path),
            text=r.text,
            keywords=list(r.keywords or []),
        )
        for r in session.scalars(select(KbSection))
    ]
    built = _Index(docs, sections)
    with _cache_lock:
        _cache[key] = (stamp, built)
    return built


def eligible_documents(session: Session, asker: Asker, on: date) -> list[_Doc]:
    """The document versions in force on `on` whose scope includes the asker."""
    return _eligible(_index(session), asker, on)


def _eligible(idx: _Index, asker: Asker, on: date) -> list[_Doc]:
    return [d for d in in_force(list(idx.docs.values()), on) if asker.covers(d.scope)]


def section_in_force(session: Session, doc_id: str, anchor: str, asker: Asker, on: date) -> Passage | None:
    """One section of a document as in force for the asker on `on`, or None."""
    idx = _index(session)
    for doc in _eligible(idx, asker, on):
        if doc.doc_id == doc_id and (sec := idx.by_anchor.get((doc.id, anchor))):
            return _passage(doc, sec, 0.0, [])
    return None


def search(
    session: Session, question: str, asker: Asker, on: date, *, language: Language, limit: int = 5
) -> SearchResult:
    idx = _index(session)
    allowed = {d.id for d in _eligible(idx, asker, on)}
    own = {w for name in names_of(asker.location, asker.country) for w in words(name)}
    asked = [w for w in dict.fromkeys(words(question)) if w not in own]
    weights: dict[str, float] = {w: 1.0 for w in asked}
    for w, weight in glossary.expand(asked).items():
        weights.setdefault(w, weight)
    asked_set = set(asked)
    idf = {w: idx.idf_of(w) for w in weights}
    whole, hits = idx.whole.scores(weights, idf, allowed)
    part, _ = idx.parts.scores(weights, idf, allowed)
    scores = {sid: WHOLE_SHARE * whole[sid] + (1 - WHOLE_SHARE) * part.get(sid, 0.0) for sid in whole}
    alts = glossary.alternatives(asked)
    ideal_label = sum(idf[w] for w in asked) or 1.0
    for sid in scores:
        # A question in the words of a section's heading or keywords is about that section.
        label = idx.labels[sid]
        in_label = sum(idf[w] for w in asked if w in label or alts.get(w, set()) & label)
        scores[sid] *= 1 + LABEL_BOOST * in_label / ideal_label
        doc = idx.docs[idx.sections[sid].document_id]
        if doc.language != language:
            scores[sid] *= OTHER_LANGUAGE
        scores[sid] *= _precedence(idx, sid, asker)
    # Passages only for the head of the ranking: twice the limit leaves room for dropping the
    # other-language twin of a section.
    top = sorted(scores, key=lambda sid: -scores[sid])[: limit * 2 + 2]
    ranked = [
        _passage(
            idx.docs[idx.sections[sid].document_id],
            idx.sections[sid],
            scores[sid],
            [w for w in hits.get(sid, []) if w in asked_set],
        )
        for sid in top
    ]
    ranked.sort(key=lambda p: (-p.score, p.doc_id, p.anchor))
    # With an embedding model (HROPS_EMBEDDING_MODEL), the word ranking is fused with the cosine
    # similarities of the sections to the question; unchanged when it is unset or cannot be reached.
    in_scope = [s for s in idx.sections.values() if s.document_id in allowed]
    foreign: set[int] = set()  # sections in another language than the question's
    alone: set[int] = set()  # of those, the ones whose policy has no version in the question's
    for sec in in_scope:
        doc = idx.docs[sec.document_id]
        if doc.language != language:
            foreign.add(sec.id)
            if language not in idx.languages[family_of(doc.doc_id)]:
                alone.add(sec.id)
    ranked, cosine = embeddings.hybrid(
        session,
        question,
        ranked,
        {s.id for s in in_scope},
        lambda sid: _passage(
            idx.docs[idx.sections[sid].document_id],
            idx.sections[sid],
            scores.get(sid, 0.0),
            [w for w in hits.get(sid, []) if w in asked_set],
        ),
        depth=limit * 2 + 2,
        precedence=lambda sid: _precedence(idx, sid, asker),
        foreign=frozenset(foreign),
        alone=frozenset(alone),
    )
    ranked = _in_question_language(ranked, language)[:limit]
    ideal = sum(idx.idf_of(w) for w in asked) or 1.0
    unseen = sum(
        idx.idf_of(w) for w in asked if w not in idx.idf and not any(a in idx.idf for a in alts.get(w, ()))
    )
    if not ranked:
        return SearchResult(passages=[], asked=asked, coverage=0.0, confidence=0.0, unseen=unseen / ideal)
    support = None if cosine is None else round(cosine.get(ranked[0].section_id, 0.0), 4)
    best = ranked[0]
    # An asked word is covered by the passage holding it or a glossary synonym of it.
    present = set(hits.get(best.section_id, []))
    covered = [w for w in asked if w in present or alts.get(w, set()) & present]
    coverage = sum(idx.idf_of(w) for w in covered) / ideal
    cal = embeddings.calibration(get_settings().embedding_model)
    return SearchResult(
        passages=ranked,
        asked=asked,
        coverage=coverage,
        confidence=best.score / ideal,
        unseen=unseen / ideal,
        support=support,
        supported=embeddings.supports(cal, support, best.score / ideal),
        tied=_tied(ranked, cal.tie),
    )


def _tied(ranked: list[Passage], tie: float | None) -> bool:
    if tie is None or len(ranked) < 2 or ranked[0].fused is None or ranked[1].fused is None:
        return False
    return ranked[0].fused - ranked[1].fused <= tie


def _precedence(idx: _Index, section_id: int, asker: Asker) -> float:
    """How much the asker's own rules count over the general ones: the document's scope
    (SPECIFIC), and the places its heading names."""
    doc = idx.docs[idx.sections[section_id].document_id]
    factor = 1.0
    for axis, boost in SPECIFIC.items():
        if getattr(doc.scope, axis):
            factor *= boost
    if not doc.scope.locations:  # a city's own document names its city everywhere: no second boost
        factor *= _heading_factor(idx, section_id, asker)
    return factor


def _heading_factor(idx: _Index, section_id: int, asker: Asker) -> float:
    named = idx.places.get(section_id)
    if not named or (asker.location is None and asker.country is None):
        return 1.0
    if asker.location in named.locations or asker.country in named.countries:
        return HEADING_HERE
    return HEADING_ELSEWHERE


def _passage(doc: _Doc, sec: _Section, score: float, matched: list[str]) -> Passage:
    return Passage(
        section_id=sec.id,
        doc_id=doc.doc_id,
        version=doc.version,
        title=doc.title,
        language=doc.language,
        topic=doc.topic,
        effective_from=doc.effective_from,
        anchor=sec.anchor,
        heading=sec.heading,
        path=sec.path,
        text=sec.text,
        score=round(score, 4),
        matched=matched,
    )


def _in_question_language(ranked: list[Passage], language: Language) -> list[Passage]:
    """Where a policy exists in both languages, keep the asker's language version of a section (at
    the rank the better of the two earned) and drop the other: one rule, cited once."""
    by_key = {(p.family, p.anchor): p for p in reversed(ranked) if p.language == language}
    out: list[Passage] = []
    seen: set[tuple[str, str]] = set()
    for p in ranked:
        key = (p.family, p.anchor)
        if key in seen:
            continue
        seen.add(key)
        same = by_key.get(key)
        out.append(
            same.model_copy(update={"score": max(p.score, same.score), "fused": p.fused}) if same else p
        )
    return out
