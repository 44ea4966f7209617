"""`/api/kb` and `/api/cases`: the HR policy assistant over HTTP: ask a policy question, list and
upload policy documents (HR ops / admin), and the second tier of handed-off questions (cases).

Included by `hrops/api/app.py` after its `Caller` dependency exists (this module imports it). Every
route goes through `hrops.knowledge_service`, as the CLI does, so the audit trail, the case opening
and the role checks are the same whichever way a person comes in.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from pydantic import BaseModel, Field

from hrops import knowledge_service
from hrops.api.app import Caller
from tools.knowledge.answer import PolicyAnswer
from tools.knowledge.cases import Case, CaseError, CorrectionScope
from tools.knowledge.library import (
    SIDECAR_SUFFIX,
    DocumentVersion,
    ImportOutcome,
    KnowledgeError,
    MetaOverrides,
    NotAnEditor,
    require_editor,
)
from tools.knowledge.models import Language

router = APIRouter(tags=["knowledge"])

MAX_FILE_BYTES = 20 * 2**20  # a policy document is text: 20 MB is a scanned PDF, not a handbook
MAX_FILES = 200
_CHUNK = 2**20

# CaseError is one type for every refusal; its messages (tools/knowledge/cases.py) say which. The
# first pattern that matches decides; anything else is bad input.
_CASE_STATUS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"may not answer policy cases|is your own question"), 403),
    (re.compile(r"^no case |is not a case id"), 404),
    (re.compile(r" was answered by "), 409),
]


def _case_refused(e: CaseError) -> HTTPException:
    message = str(e)
    status = next((code for pattern, code in _CASE_STATUS if pattern.search(message)), 422)
    return HTTPException(status, message)


# What `cases.parse_label` reads, in ASCII digits and short enough for an integer column: it takes any
# Unicode digit (int("²") then fails) and any length (SQLite overflows), which would be a 500 here.
_CASE_ID = re.compile(r"\s*(KB-)?[0-9]{1,9}\s*", re.IGNORECASE | re.ASCII)


def _checked(case_id: str) -> str:
    if not _CASE_ID.fullmatch(case_id):
        raise HTTPException(
            404, f"{case_id[:40]!r} is not a case id; case ids look like KB-3 (GET /api/cases lists them)"
        )
    return case_id


def _kb_refused(e: KnowledgeError, folder: str | None = None) -> HTTPException:
    message = str(e)
    if folder:  # the caller knows their files by name, not by where the server put them
        message = message.replace(folder.rstrip("/") + "/", "")
    return HTTPException(403 if isinstance(e, NotAnEditor) else 422, message)


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    on: date | None = Field(None, description="ask as of this date (default today)")


@router.post("/api/kb/ask")
def ask_policy(body: AskIn, who: Caller) -> PolicyAnswer:
    """A policy question in English or Chinese, answered from the documents that apply to the caller
    (their country, location and group) with quoted citations, or handed to HR ops as a case
    (`case_id` in the answer)."""
    if not body.question.strip():
        raise HTTPException(
            422, 'the question is empty: ask something, e.g. "how many days of annual leave do I get?"'
        )
    return knowledge_service.ask(who, body.question, body.on)


@router.get("/api/kb/documents")
def list_documents(_: Caller, on: date | None = None, history: bool = False) -> list[DocumentVersion]:
    """The documents in force on `on` (default today) and versions waiting for a later date; with
    `history`, every version ever imported."""
    return knowledge_service.documents(on, history=history)


def _file_name(upload: UploadFile) -> str:
    """The uploaded file's own name, without any folder part a client may have sent: its suffix
    picks the reader and it is kept as the document's source name."""
    name = Path((upload.filename or "").replace("\\", "/")).name
    if name in ("", ".", ".."):
        raise HTTPException(
            422, "an uploaded file has no file name: send each file with its name (e.g. leave.en.md)"
        )
    return name


def _save(upload: UploadFile, target: Path) -> None:
    """Copy the upload in chunks, refusing it once it passes the size limit."""
    written = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(_CHUNK):
            written += len(chunk)
            if written > MAX_FILE_BYTES:
                raise HTTPException(
                    413,
                    f"{target.name} is larger than {MAX_FILE_BYTES // 2**20} MB: split the document, or "
                    "save a scanned PDF with a text layer at a lower resolution; nothing imported",
                )
            out.write(chunk)


def _listed(values: list[str] | None) -> list[str] | None:
    """Repeated form fields and comma-separated values alike: `countries=CN,SG` or two fields."""
    if values is None:
        return None
    out = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return out or None


@router.post("/api/kb/documents")
def upload_documents(
    who: Caller,
    # Optional here so that the role is checked before the body: a non-editor gets 403 for any body.
    files: Annotated[
        list[UploadFile] | None, File(description="policy files: .md, .html, .pdf, .docx, .xlsx")
    ] = None,
    doc_id: Annotated[str | None, Form()] = None,
    title: Annotated[str | None, Form()] = None,
    language: Annotated[Language | None, Form()] = None,
    topic: Annotated[str | None, Form()] = None,
    effective_from: Annotated[date | None, Form()] = None,
    countries: Annotated[list[str] | None, Form()] = None,
    locations: Annotated[list[str] | None, Form()] = None,
    groups: Annotated[list[str] | None, Form()] = None,
) -> list[ImportOutcome]:
    """Import policy documents (HR ops and admins), as `hrops kb import` does: every file is read
    and checked first, and one bad file imports nothing. A `NAME.meta.yaml` sent with `NAME` gives
    its metadata; the form fields win over it and over the file's own front matter."""
    try:
        require_editor(who)  # before a byte is written to disk
    except NotAnEditor as e:
        raise _kb_refused(e) from None
    if not files:
        raise HTTPException(
            422, "no files given: send one or more .md, .html, .pdf, .docx or .xlsx files as `files`"
        )
    if len(files) > MAX_FILES:
        raise HTTPException(413, f"{len(files)} files in one upload: send at most {MAX_FILES} at a time")
    overrides = MetaOverrides(
        doc_id=doc_id or None,
        title=title or None,
        language=language,
        topic=topic or None,
        effective_from=effective_from,
        countries=_listed(countries),
        locations=_listed(locations),
        groups=_listed(groups),
    )
    with tempfile.TemporaryDirectory(prefix="hrops-upload-") as folder:
        documents: list[Path] = []
        for upload in files:
            name = _file_name(upload)
            target = Path(folder) / name
            if target.exists():
                raise HTTPException(422, f"two files are named {name}: give each file its own name")
            _save(upload, target)
            if not name.lower().endswith(SIDECAR_SUFFIX):  # read beside its document, not imported
                documents.append(target)
        try:
            return knowledge_service.import_files(who, documents, overrides)
        except KnowledgeError as e:
            raise _kb_refused(e, folder) from None


CaseStatus = Literal["open", "answered", "all"]


@router.get("/api/cases")
def list_cases(who: Caller, status: CaseStatus = "open") -> list[Case]:
    """Handed-off policy questions, oldest first: HR ops and admins see all, anyone else their own.
    A sensitive matter's question is left out of the list (GET the case for it), as in the CLI."""
    found = knowledge_service.open_cases(who, None if status == "all" else status)
    return [c.listed() for c in found]


@router.get("/api/cases/{case_id}")
def get_case(case_id: str, who: Caller) -> Case:
    try:
        return knowledge_service.case(who, _checked(case_id))
    except CaseError as e:
        raise _case_refused(e) from None


class CaseAnswerIn(BaseModel):
    text: str = Field(min_length=1, max_length=10000, description="the answer the asker gets")
    save_as: CorrectionScope | None = Field(
        None, description="keep it as a correction for askers in the same location, country, or everyone"
    )
    cites: list[Annotated[str, Field(max_length=300)]] = Field(
        [], max_length=20, description="policy sections it rests on, doc#anchor"
    )


@router.post("/api/cases/{case_id}/answer")
def answer_case(case_id: str, body: CaseAnswerIn, who: Caller) -> Case:
    """Answer a case (HR ops and admins; not one's own question): the asker is told at once, and an
    answer is final."""
    try:
        return knowledge_service.answer_case(
            who, _checked(case_id), body.text, save_as=body.save_as, cites=body.cites
        )
    except CaseError as e:
        raise _case_refused(e) from None
