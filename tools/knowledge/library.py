"""Policy documents in the HR store: import (validated first, written in one transaction), versions
with effective dates, and the list of what is in force.

A document is identified by its `doc_id`; importing a file whose content differs from the latest
version of that id adds a version (its sections replace the old ones from its `effective_from` on;
the old version stays for history and for dates before). Importing the same content again writes
nothing. Metadata comes from, in rising priority: the file itself (Markdown front matter, the
document's title), a sidecar `FILE.meta.yaml`, and the command line.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrops.clock import now
from tools.knowledge.models import (
    DocumentMeta,
    DocumentScope,
    KnowledgeImportError,
    Language,
    ParsedSection,
)
from tools.knowledge.readers import read_file
from tools.store import audit
from tools.store.identity import Principal
from tools.store.models import KbDocument, KbSection, Role

EDITORS = frozenset({Role.HR_OPS, Role.ADMIN})
SIDECAR_SUFFIX = ".meta.yaml"
_CJK = re.compile(r"[\u3400-\u9fff]")


class KnowledgeError(Exception):
    """A knowledge-base request refused, with a message a person can act on."""


class NotAnEditor(KnowledgeError):
    pass


class MetaOverrides(BaseModel):
    """Metadata given on the command line or through the API; it wins over the file's own."""

    doc_id: str | None = None
    title: str | None = None
    language: Language | None = None
    topic: str | None = None
    effective_from: date | None = None
    countries: list[str] | None = None
    locations: list[str] | None = None
    groups: list[str] | None = None


class PreparedDocument(BaseModel):
    """A file read and its metadata settled: what the import will write."""

    path: str
    meta: DocumentMeta
    sections: list[ParsedSection]
    sha256: str


class ImportOutcome(BaseModel):
    doc_id: str
    version: int
    status: Literal["new", "new version", "unchanged"]
    sections: int
    effective_from: date
    # Against the version it replaces: anchors added, removed, and kept with changed text.
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []


class DocumentVersion(DocumentMeta):
    version: int
    sections: int
    source_name: str
    imported_at: str
    imported_by: str
    in_force: bool  # the version that applies today (a later one may be waiting for its date)


def require_editor(who: Principal) -> None:
    if not who.has(*EDITORS):
        raise NotAnEditor(
            f"{who.username} may not change the policy knowledge base: editors are HR ops and admins "
            "(a role granted in user_roles)"
        )


def detect_language(texts: list[str]) -> Language:
    """Chinese when a fair share of the letters are CJK ideographs (a Chinese policy quotes English
    terms like 'PTO' or 'HRIS'; an English one rarely holds Chinese)."""
    sample = "".join(texts)[:20000]
    letters = sum(ch.isalpha() for ch in sample) or 1
    return "zh" if len(_CJK.findall(sample)) / letters > 0.2 else "en"


def _default_doc_id(path: Path) -> str:
    stem = path.name
    for suffix in (".markdown", ".md", ".html", ".htm", ".pdf", ".docx", ".xlsx"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_stem).strip("-._")
    return slug[:80] or "document"


def _sidecar(path: Path) -> dict[str, object]:
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    if not side.exists():
        return {}
    try:
        data = yaml.safe_load(side.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise KnowledgeImportError(str(side), f"is not valid YAML ({e})", "fix the metadata file") from None
    if not isinstance(data, dict):
        raise KnowledgeImportError(
            str(side), "is not a mapping of fields", "write `doc_id: ...`, `title: ...` lines"
        )
    return data


def _meta(
    path: Path, found: dict[str, object], title: str | None, texts: list[str], o: MetaOverrides
) -> DocumentMeta:
    raw: dict[str, object] = {
        "doc_id": _default_doc_id(path),
        "title": title or path.stem,
        "topic": "general",
        "effective_from": now().date(),
    }
    raw.update({k: v for k, v in found.items() if v is not None})
    given = {axis: v for axis in ("countries", "locations", "groups") if (v := getattr(o, axis)) is not None}
    scope = raw.get("scope") or {}  # not a mapping: left for validation to name
    raw["scope"] = {**scope, **given} if isinstance(scope, dict) else (given or scope)
    raw.update(
        {
            k: v
            for k, v in o.model_dump(
                include={"doc_id", "title", "language", "topic", "effective_from"}
            ).items()
            if v is not None
        }
    )
    if "language" not in raw:
        raw["language"] = detect_language(texts)
    try:
        meta = DocumentMeta.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        raise KnowledgeImportError(
            str(path),
            f"has unusable metadata ({problems})",
            "fix the front matter or the FILE.meta.yaml beside it, or give --doc-id/--language/--effective-from",
        ) from None
    scope = meta.scope.model_copy(
        update={
            "countries": [c.upper() for c in meta.scope.countries],
            "groups": [g.lower() for g in meta.scope.groups],
        }
    )
    return meta.model_copy(update={"scope": scope})


def prepare(path: Path, overrides: MetaOverrides | None = None) -> PreparedDocument:
    """Read one file and settle its metadata; raises KnowledgeImportError with what to fix."""
    read = read_file(path)
    found = {**read.front_matter, **_sidecar(path)}
    texts = [s.text for s in read.sections]
    meta = _meta(path, found, read.title, texts, overrides or MetaOverrides())
    return PreparedDocument(
        path=str(path),
        meta=meta,
        sections=read.sections,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def _latest(session: Session, doc_id: str) -> KbDocument | None:
    return session.scalar(
        select(KbDocument).where(KbDocument.doc_id == doc_id).order_by(KbDocument.version.desc()).limit(1)
    )


def _diff(old: KbDocument | None, new: list[ParsedSection]) -> tuple[list[str], list[str], list[str]]:
    before = (
        {s.anchor: (s.text, list(s.keywords), list(s.questions or [])) for s in old.sections} if old else {}
    )
    after = {s.anchor: (s.text, s.keywords, s.questions) for s in new}
    added = [a for a in after if a not in before]
    removed = [a for a in before if a not in after]
    changed = [a for a in after if a in before and before[a] != after[a]]
    return added, removed, changed


def import_documents(
    session: Session, who: Principal, paths: list[Path], overrides: MetaOverrides | None = None
) -> list[ImportOutcome]:
    """Import files as policy documents: all are read and checked before anything is written, and
    all are written in the caller's transaction (one bad file: nothing imported)."""
    require_editor(who)
    if not paths:
        raise KnowledgeError("no files given: name one or more .md, .html, .pdf, .docx or .xlsx files")
    if overrides and overrides.doc_id and len(paths) > 1:
        raise KnowledgeError("--doc-id names one document: import one file with it, or leave it out")
    problems: list[str] = []
    prepared: list[PreparedDocument] = []
    for path in paths:
        try:
            prepared.append(prepare(path, overrides))
        except KnowledgeImportError as e:
            problems.append(str(e))
    seen: dict[str, str] = {}
    for p in prepared:
        if p.meta.doc_id in seen:
            problems.append(
                f"{p.path}: doc_id {p.meta.doc_id} is also {seen[p.meta.doc_id]}; give each file its own doc_id"
            )
        seen[p.meta.doc_id] = p.path
    if problems:
        raise KnowledgeError("nothing imported:\n" + "\n".join(f"  {line}" for line in problems))

    outcomes: list[ImportOutcome] = []
    at = now()
    for p in prepared:
        latest = _latest(session, p.meta.doc_id)
        if same := _already_imported(session, p):
            outcomes.append(
                ImportOutcome(
                    doc_id=same.doc_id,
                    version=same.version,
                    status="unchanged",
                    sections=len(same.sections),
                    effective_from=same.effective_from,
                )
            )
            continue
        added, removed, changed = _diff(latest, p.sections)
        doc = KbDocument(
            doc_id=p.meta.doc_id,
            version=(latest.version + 1) if latest else 1,
            title=p.meta.title,
            language=p.meta.language,
            topic=p.meta.topic,
            effective_from=p.meta.effective_from,
            scope=p.meta.scope.model_dump(),
            source_name=Path(p.path).name[:300],
            sha256=p.sha256,
            imported_at=at,
            imported_by=who.username,
            sections=[
                KbSection(
                    ordinal=i,
                    anchor=s.anchor,
                    heading=s.heading[:300],
                    path=s.path,
                    text=s.text,
                    keywords=s.keywords,
                    questions=s.questions,
                )
                for i, s in enumerate(p.sections)
            ],
        )
        session.add(doc)
        session.flush()
        outcome = ImportOutcome(
            doc_id=doc.doc_id,
            version=doc.version,
            status="new version" if latest else "new",
            sections=len(p.sections),
            effective_from=doc.effective_from,
            added=added if latest else [],
            removed=removed,
            changed=changed,
        )
        audit.append(
            session,
            audit.AuditEvent(
                actor=who.username,
                action="kb.document.imported",
                entity_type="kb_document",
                entity_id=f"{doc.doc_id}@{doc.version}",
                details={
                    "sha256": doc.sha256,
                    "sections": outcome.sections,
                    "effective_from": doc.effective_from.isoformat(),
                    "added": len(outcome.added),
                    "removed": len(outcome.removed),
                    "changed": len(outcome.changed),
                },
            ),
            at=at,
        )
        outcomes.append(outcome)
    return outcomes


def _already_imported(session: Session, p: PreparedDocument) -> KbDocument | None:
    """A version of this document with the same file and metadata: importing it again is a no-op
    (also when a later version was imported since, as when a handbook and its update are re-seeded)."""
    same_file = session.scalars(
        select(KbDocument).where(KbDocument.doc_id == p.meta.doc_id, KbDocument.sha256 == p.sha256)
    )
    return next((d for d in same_file if _same_meta(d, p.meta)), None)


def _same_meta(doc: KbDocument, meta: DocumentMeta) -> bool:
    """The same file with other metadata (a new effective date, a wider scope) is a new version."""
    return (
        doc.title == meta.title
        and doc.language == meta.language
        and doc.topic == meta.topic
        and doc.effective_from == meta.effective_from
        and DocumentScope.model_validate(doc.scope) == meta.scope
    )


class _Versioned(Protocol):
    doc_id: str
    version: int
    effective_from: date


V = TypeVar("V", bound=_Versioned)


def in_force(docs: list[V], on: date) -> list[V]:
    """Per doc_id, the version in force on `on`: the latest effective_from on or before it, the
    later import winning a tie. A doc_id none of whose versions has started yet is left out."""
    best: dict[str, V] = {}
    for d in docs:
        if d.effective_from > on:
            continue
        cur = best.get(d.doc_id)
        if cur is None or (d.effective_from, d.version) > (cur.effective_from, cur.version):
            best[d.doc_id] = d
    return sorted(best.values(), key=lambda d: d.doc_id)


def list_documents(session: Session, on: date, *, history: bool = False) -> list[DocumentVersion]:
    """Every document (its version in force on `on`, plus versions waiting for a later date); with
    `history`, every version ever imported."""
    docs = list(session.scalars(select(KbDocument).order_by(KbDocument.doc_id, KbDocument.version)))
    counts = dict(
        session.execute(select(KbSection.document_id, func.count()).group_by(KbSection.document_id)).all()
    )
    current = {d.id for d in in_force(docs, on)}
    latest = {d.doc_id: d.id for d in docs}  # ordered by version: the last one wins
    shown = [
        d for d in docs if history or d.id in current or (d.effective_from > on and latest[d.doc_id] == d.id)
    ]
    return [
        DocumentVersion(
            **stored_meta(d),
            version=d.version,
            sections=counts.get(d.id, 0),
            source_name=d.source_name,
            imported_at=d.imported_at.isoformat(timespec="seconds"),
            imported_by=d.imported_by,
            in_force=d.id in current,
        )
        for d in shown
    ]


def stored_meta(d: KbDocument) -> dict[str, object]:
    """A stored version's metadata, as DocumentMeta takes it."""
    return {
        "doc_id": d.doc_id,
        "title": d.title,
        "language": d.language,
        "topic": d.topic,
        "effective_from": d.effective_from,
        "scope": DocumentScope.model_validate(d.scope),
    }
