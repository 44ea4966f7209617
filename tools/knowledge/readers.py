"""Read a policy document (Markdown, HTML, PDF, Word, Excel) into citable sections.

`read_file` is the one entry point: it picks the reader by suffix and turns everything unusable
(missing, empty, corrupt, a scan without text, an unknown format) into a `KnowledgeImportError`
that says what is wrong and how to fix it. The section and anchor rules are in `sections.py`."""

from __future__ import annotations

import codecs
import importlib
from collections.abc import Callable
from pathlib import Path

from tools.knowledge.models import KnowledgeImportError, ReadResult

# What to do with a format we do not read, where there is something better to say than the list.
_CONVERT = {
    ".doc": "open it in Word or LibreOffice and save it as .docx",
    ".xls": "open it in Excel or LibreOffice and save it as .xlsx",
    ".txt": "rename it to .md (plain text is valid Markdown; add '# ' headings to get sections)",
    ".rtf": "open it in Word or LibreOffice and save it as .docx",
    ".odt": "save it as .docx from LibreOffice",
    ".pptx": "export the slides to PDF and import that",
}
_NO_TEXT_FIX = {
    ".xlsx": "fill in at least one sheet (the first row is read as the header)",
    ".pdf": "check the PDF opens with selectable text",
}


def read_file(path: Path) -> ReadResult:
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise KnowledgeImportError(
            name, "does not exist", "check the path and the file name (and its suffix)"
        )
    if path.is_dir():
        raise KnowledgeImportError(name, "is a folder, not a file", "give the path of one document in it")
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        what = f"'{suffix}' files are" if suffix else "files without a suffix are"
        fix = _CONVERT.get(suffix, "convert it to one of them")
        raise KnowledgeImportError(name, f"{what} not supported (supported: {', '.join(SUPPORTED)})", fix)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KnowledgeImportError(
            name, f"cannot be read ({e.strerror or e})", "check the file's permissions"
        ) from None
    if not data:
        raise KnowledgeImportError(
            name, "is empty (0 bytes)", "export or save the document again; the copy may have been cut short"
        )
    if not data.strip():
        raise KnowledgeImportError(
            name, "contains only whitespace", "check it is the right file: it has no text to import"
        )
    result = _READERS[suffix](name, data)
    if not result.sections:
        raise KnowledgeImportError(
            name,
            "contains no text to import (no paragraphs, lists or tables with text)",
            _NO_TEXT_FIX.get(suffix, "check it is the right file; a policy needs text under its headings"),
        )
    return result


def _reader(kind: str) -> Callable[..., ReadResult]:
    """`tools.knowledge.read_<kind>.read_<kind>`, imported when a file of that kind is read: the
    format libraries (pypdf, openpyxl, python-docx, BeautifulSoup) take about half a second to load,
    which every worker, API and CLI process that only searches would otherwise pay."""
    return getattr(importlib.import_module(f"tools.knowledge.read_{kind}"), f"read_{kind}")


def _markdown(name: str, data: bytes) -> ReadResult:
    return _reader("markdown")(name, _text(name, data))


def _html(name: str, data: bytes) -> ReadResult:
    return _reader("html")(name, _not_binary(name, data, "HTML"))


# The binary formats' libraries open the file themselves (zip members, PDF cross-references).
_READERS: dict[str, Callable[[str, bytes], ReadResult]] = {
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".pdf": lambda name, _data: _reader("pdf")(name),
    ".docx": lambda name, _data: _reader("docx")(name),
    ".xlsx": lambda name, _data: _reader("xlsx")(name),
}
SUPPORTED = tuple(_READERS)


def _text(name: str, data: bytes) -> str:
    """Markdown is UTF-8 (with or without a BOM); UTF-16 with a BOM is accepted too."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    _not_binary(name, data, "Markdown")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise KnowledgeImportError(
            name,
            f"is not UTF-8 text (byte 0x{data[e.start]:02x} on line {line}; GBK or Windows-1252 perhaps)",
            "save it with the encoding UTF-8 (in most editors: Save As, Encoding: UTF-8) and import again",
        ) from None


def _not_binary(name: str, data: bytes, fmt: str) -> bytes:
    if b"\x00" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise KnowledgeImportError(
            name,
            f"is a binary file, not {fmt} text",
            "check the suffix matches the content (a PDF or Word file renamed?) and import the real file",
        )
    return data
