"""Lexical retrieval over policy sections (BM25), offline and bilingual, filtered to what applies to
the asker: the document version in force on the day asked, and a scope that includes the asker's
country, location and employee group.

The index holds every section of every imported version and is rebuilt when the knowledge base
changes (a new import bumps the highest document id); filtering happens per question, so one index
serves every asker and every date.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from datetime import date

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tools.knowledge import glossary
from tools.knowledge.library import in_force
from tools.knowledge.models import DocumentScope, Language
from tools.knowledge.places import mentions, names_of
from tools.knowledge.segment import words
from tools.store.models import KbDocument, KbSection

K1, B = 1.2, 0.75
HEADING_WEIGHT = 3  # a word in the heading counts as three in the body: headings name the rule
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


def family_of(doc_id: str) -> str:
    head, _, tail = doc_id.rpartition(".")
    return head if head and tail in ("en", "zh") else doc_id


class _Doc(BaseModel):
    """A document version as the index keeps it: plain values, not rows tied to a session."""

    id: int
    doc_id: str
    version: int
    title: str
    language: Language
    topic: str
    effective_from: date
    scope: DocumentScope


class _Section(BaseModel):
    id: int
    document_id: int
    anchor: str
    heading: str
    path: list[str]
    text: str


class _Entry(BaseModel):
    section_id: int
    document_id: int
    length: int


class _Index:
    def __init__(self, docs: list[_Doc], sections: list[_Section]) -> None:
        self.docs = {d.id: d for d in docs}
        self.sections = {s.id: s for s in sections}
        self.entries: list[_Entry] = []
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for s in sections:
            doc = self.docs[s.document_id]
            tokens = (
                words(doc.title)
                + words(" ".join(s.path[:-1]))
                + words(s.heading) * HEADING_WEIGHT
                + words(s.text)
            )
            counts = Counter(tokens)
            i = len(self.entries)
            self.entries.append(_Entry(section_id=s.id, document_id=s.document_id, length=len(tokens)))
            for w, tf in counts.items():
                self.postings[w].append((i, tf))
        self.places = {s.id: m for s in sections if (m := mentions(s.heading))}
        n = len(self.entries) or 1
        self.avgdl = sum(e.length for e in self.entries) / n
        # An unseen word is rarer than any seen one: it counts fully against coverage.
        self.idf = {w: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for w, p in self.postings.items()}
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
    docs = [
        _Doc(
            id=d.id,
            doc_id=d.doc_id,
            version=d.version,
            title=d.title,
            language=d.language,  # type: ignore[arg-type]
            topic=d.topic,
            effective_from=d.effective_from,
            scope=DocumentScope.model_validate(d.scope),
        )
        for d in session.scalars(select(KbDocument))
    ]
    sections = [
        _Section(
            id=r.id,
            document_id=r.document_id,
            anchor=r.anchor,
            heading=r.heading,
            path=list(r.path),
            text=r.text,
        )
        for r in session.scalars(select(KbSection))
    ]
    built = _Index(docs, sections)
    with _cache_lock:
        _cache[key] = (stamp, built)
    return built


def eligible_documents(session: Session, asker: Asker, on: date) -> list[_Doc]:
    """The document versions in force on `on` whose scope includes the asker."""
    idx = _index(session)
    return [d for d in in_force(list(idx.docs.values()), on) if asker.covers(d.scope)]


def search(
    session: Session, question: str, asker: Asker, on: date, *, language: Language, limit: int = 5
) -> SearchResult:
    idx = _index(session)
    allowed = {d.id for d in eligible_documents(session, asker, on)}
    own = {w for name in names_of(asker.location, asker.country) for w in words(name)}
    asked = [w for w in dict.fromkeys(words(question)) if w not in own]
    weights: dict[str, float] = {w: 1.0 for w in asked}
    for w, weight in glossary.expand(asked).items():
        weights.setdefault(w, weight)
    scores: dict[int, float] = defaultdict(float)
    hits: dict[int, list[str]] = defaultdict(list)  # the asked words each section holds
    for w, weight in weights.items():
        idf = idx.idf_of(w)
        for i, tf in idx.postings.get(w, ()):
            entry = idx.entries[i]
            if entry.document_id not in allowed:
                continue
            norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * entry.length / idx.avgdl))
            scores[i] += weight * idf * norm
            if weight == 1.0:
                hits[i].append(w)
    for i in scores:
        doc = idx.docs[idx.entries[i].document_id]
        if doc.language != language:
            scores[i] *= OTHER_LANGUAGE
        for axis, boost in SPECIFIC.items():
            if getattr(doc.scope, axis):
                scores[i] *= boost
        scores[i] *= _heading_factor(idx, idx.entries[i].section_id, asker)
    # Passages only for the head of the ranking: twice the limit leaves room for dropping the
    # other-language twin of a section.
    top = sorted(scores, key=lambda i: -scores[i])[: limit * 2 + 2]
    ranked = [
        _passage(
            idx.docs[idx.entries[i].document_id], idx.sections[idx.entries[i].section_id], scores[i], hits[i]
        )
        for i in top
    ]
    ranked.sort(key=lambda p: (-p.score, p.doc_id, p.anchor))
    ranked = _in_question_language(ranked, language)[:limit]
    ideal = sum(idx.idf_of(w) for w in asked) or 1.0
    if not ranked:
        return SearchResult(passages=[], asked=asked, coverage=0.0, confidence=0.0)
    best = ranked[0]
    found = set(best.matched)
    coverage = sum(idx.idf_of(w) for w in asked if w in found) / ideal
    return SearchResult(passages=ranked, asked=asked, coverage=coverage, confidence=best.score / ideal)


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
        out.append(same.model_copy(update={"score": max(p.score, same.score)}) if same else p)
    return out
