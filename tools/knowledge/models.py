"""Typed shapes at the knowledge base's boundaries: what a reader gets out of a file, what a
document is, and what an answer cites."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "zh"]
DOC_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,79}$"
ANCHOR_PATTERN = r"^[^\s#]{1,120}$"


class KnowledgeImportError(ValueError):
    """A file that cannot be imported: which file, what is wrong, how to fix it."""

    def __init__(self, path: str, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = path, problem, fix
        super().__init__(f"{path}: {problem}; {fix}")


class ParsedSection(BaseModel):
    """One citable unit: the text under one heading (or one page, one sheet)."""

    model_config = ConfigDict(frozen=True)

    anchor: str = Field(pattern=ANCHOR_PATTERN)  # unique within its document; stable across versions
    heading: str
    path: list[str] = []  # the heading trail above and including this heading
    text: str  # plain text, paragraphs separated by blank lines, table rows as "col: value; ..." lines
    keywords: list[str] = []  # the author's "Keywords:" line: searched like the heading, never quoted
    questions: list[str] = []  # the author's "Questions:" line: matched by meaning, never quoted


class ReadResult(BaseModel):
    """What a reader found in a file, before the import adds identity, version and scope."""

    title: str | None = None  # the first top-level heading, the DOCX/PDF title, ...
    front_matter: dict[str, object] = {}  # Markdown YAML front matter; empty for other formats
    sections: list[ParsedSection]


class DocumentScope(BaseModel):
    """Who a document applies to; an empty list means everyone on that axis."""

    model_config = ConfigDict(frozen=True)

    countries: list[str] = []  # ISO 3166 alpha-2: CN, SG, GB, US
    locations: list[str] = []  # the company's location names: Shanghai, Beijing, ...
    groups: list[str] = []  # employee groups: staff, manager


class DocumentMeta(BaseModel):
    """A document's identity and applicability, from front matter, a sidecar YAML or the command line."""

    doc_id: str = Field(
        pattern=DOC_ID_PATTERN
    )  # e.g. leave.en; a re-import with the same id is a new version
    title: str
    language: Language
    topic: (
        str  # leave, attendance, payroll, social-insurance, benefits, expenses, performance, onboarding, exit
    )
    effective_from: date
    scope: DocumentScope = DocumentScope()
