"""PDF policies: the text layer via pypdf. Numbered headings ("1. Scope", "2.3 Carry-over",
"第三章 休假", "第十条 ...") start sections when the document has them; otherwise one section a page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from tools.knowledge.models import KnowledgeImportError, ParsedSection, ReadResult
from tools.knowledge.sections import SectionBuilder, normalise, one_line

_NUMBERED = re.compile(r"^(\d{1,2})\.\s+(\S.*)$|^(\d{1,2}(?:\.\d{1,2}){1,2})\.?\s+(\S.*)$")
_CN_NUMBERED = re.compile(r"^第([一二三四五六七八九十百零〇两\d]{1,6})([章节条])(?:\s*(.*))?$")
_CN_RANK = {"章": 0, "节": 1, "条": 2}
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SENTENCE_END = tuple(".。;；:：,，")
_MAX_TITLE = 80  # longer lines are sentences, not headings


def read_pdf(path: str) -> ReadResult:
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeImportError(
                path,
                "is password-protected",
                "save an unprotected copy (print to PDF or remove the password) and import that",
            )
        pages = [normalise(page.extract_text() or "") for page in reader.pages]
        meta_title = one_line(str(reader.metadata.title or "")) if reader.metadata else ""
    except KnowledgeImportError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as e:
        raise KnowledgeImportError(
            path,
            f"is not a readable PDF ({type(e).__name__}: {e})",
            "open it in a PDF viewer and save or print it to a new PDF, then import that",
        ) from None
    if not any(pages):
        raise KnowledgeImportError(
            path,
            "has no text layer (it looks like a scanned image)",
            "run it through OCR (for example `ocrmypdf in.pdf out.pdf`) and import the result, "
            "or import the original Word/Markdown file",
        )
    lines = [line for page in pages for line in page.split("\n")]
    first = next((i for i, line in enumerate(lines) if line), 0)
    title = meta_title or lines[first] or None
    headings = _headings(lines)
    if len(headings) < 2:  # one stray "1. ..." is a list item, not a structure
        return ReadResult(title=title, sections=_by_page(pages))
    builder = SectionBuilder(path)
    block: list[str] = []  # a PDF does not say where paragraphs end: its lines stay lines
    for i, line in enumerate(lines):
        if i in headings:
            builder.add("\n".join(block))
            block = [headings[i].rest]
            builder.heading(headings[i].level, headings[i].heading)
        elif i == first and line == title and first not in headings:
            continue  # the title printed above the first section is no intro text
        else:
            block.append(line)
    builder.add("\n".join(block))
    return ReadResult(title=title, sections=builder.sections())


@dataclass
class _Heading:
    level: int
    heading: str
    rest: str = ""  # "第十条 员工每年享有..." : the article's text on the heading's line


def _headings(lines: list[str]) -> dict[int, _Heading]:
    """Line index -> heading, using whichever numbering scheme finds more headings. A numbered
    line counts only if it continues the sequence (after 2.1 come 2.2, 2.1.1 or 3), which keeps
    numbered list items ("1. Submit the form") from being taken for headings."""
    numeric = _numeric_headings(lines)
    chinese = _chinese_headings(lines)
    return numeric if len(numeric) >= len(chinese) else chinese


def _looks_like_title(text: str) -> bool:
    return (
        bool(text) and len(text) <= _MAX_TITLE and not text.endswith(_SENTENCE_END) and not text[0].islower()
    )


def _numeric_headings(lines: list[str]) -> dict[int, _Heading]:
    found: dict[int, _Heading] = {}
    prev: tuple[int, ...] = ()
    for i, line in enumerate(lines):
        m = _NUMBERED.match(line)
        if not m:
            continue
        number, text = (m[1], m[2]) if m[1] else (m[3], m[4])
        parts = tuple(int(p) for p in number.split("."))
        if not _looks_like_title(text) or parts not in _successors(prev):
            continue
        found[i] = _Heading(len(parts), line)
        prev = parts
    return found


def _successors(prev: tuple[int, ...]) -> set[tuple[int, ...]]:
    if not prev:
        return {(1,), (1, 1), (1, 1, 1)}
    out = {prev[:k] + (prev[k] + 1,) for k in range(len(prev))}
    if len(prev) < 3:
        out.add((*prev, 1))
    return out


def _chinese_headings(lines: list[str]) -> dict[int, _Heading]:
    candidates = []
    for i, line in enumerate(lines):
        m = _CN_NUMBERED.match(line)
        if m and (n := _cn_number(m[1])) is not None:
            candidates.append((i, n, m[2], f"第{m[1]}{m[2]}", (m[3] or "").strip()))
    ranks = sorted({_CN_RANK[c[2]] for c in candidates})  # 章 > 节 > 条, whichever the document uses
    found: dict[int, _Heading] = {}
    last: dict[str, int] = {}
    for i, n, kind, label, text in candidates:
        if n != last.get(kind, 0) + 1:  # a cross-reference ("依照第五条") or a list, not the next one
            continue
        last[kind] = n
        if kind == "章":
            last["节"] = 0  # 节 restart in each 章; 条 run on through the whole document
        if kind == "条" and text and not _looks_like_title(text):
            found[i] = _Heading(ranks.index(_CN_RANK[kind]) + 1, label, rest=text)  # the article itself
        else:
            found[i] = _Heading(ranks.index(_CN_RANK[kind]) + 1, f"{label} {text}".strip())
    return found


def _cn_number(s: str) -> int | None:
    """一 -> 1, 十二 -> 12, 二十 -> 20, 一百零五 -> 105, 12 -> 12."""
    if s.isdigit():
        return int(s)
    total, digit = 0, 0
    for c in s:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        elif c in "十百":
            total += (digit or 1) * (10 if c == "十" else 100)
            digit = 0
        else:
            return None
    return total + digit


def _by_page(pages: list[str]) -> list[ParsedSection]:
    """No numbered headings: a page is the unit a reader can find again."""
    return [
        ParsedSection(anchor=f"page-{n}", heading=f"Page {n}", path=[f"Page {n}"], text=text)
        for n, text in enumerate(pages, start=1)
        if text
    ]
