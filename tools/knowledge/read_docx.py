"""Word documents: paragraphs styled Heading 1-3 start sections, the Title paragraph is the title,
tables become rows, list paragraphs become `- ` lines."""

from __future__ import annotations

import re
import zipfile

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.styles.style import BaseStyle
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml.etree import XMLSyntaxError

from tools.knowledge.models import KnowledgeImportError, ReadResult
from tools.knowledge.sections import SectionBuilder, one_line, table_lines

_HEADING = re.compile(r"^heading\s*([1-9])$", re.I)


def read_docx(path: str) -> ReadResult:
    try:
        document = docx.Document(path)
        blocks = list(document.iter_inner_content())
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, XMLSyntaxError) as e:
        raise KnowledgeImportError(
            path,
            f"is not a readable Word (.docx) document ({type(e).__name__}: {e})",
            "open it in Word or LibreOffice and save it again as .docx (an old .doc renamed to .docx "
            "does not work)",
        ) from None
    builder = SectionBuilder(path)
    title: str | None = None
    first_h1: str | None = None
    list_lines: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            _flush(builder, list_lines)
            builder.add("\n".join(table_lines(_rows(block))))
            continue
        text = block.text
        kind, level = _kind(block)
        if kind != "list":
            _flush(builder, list_lines)
        if kind == "title":
            title = title or one_line(text) or None
        elif kind == "heading" and level <= 3:
            builder.heading(level, text)
            first_h1 = first_h1 or (one_line(text) if level == 1 else None)
        elif kind == "list":
            if one_line(text):
                list_lines.append("- " + one_line(text))
        else:  # body text; Heading 4+ stays in its section as a line
            builder.add(text)
    _flush(builder, list_lines)
    title = title or one_line(document.core_properties.title or "") or first_h1
    return ReadResult(title=title or None, sections=builder.sections())


def _flush(builder: SectionBuilder, list_lines: list[str]) -> None:
    if list_lines:
        builder.add("\n".join(list_lines))
        list_lines.clear()


def _kind(p: Paragraph) -> tuple[str, int]:
    """("title" | "heading" | "list" | "text", heading level): by style, following the styles a custom
    style is based on (a house style "Policy Heading" based on Heading 2 is a level-2 heading)."""
    style: BaseStyle | None = p.style
    for _ in range(10):  # a based-on chain is short; a loop in a broken file must not hang
        if style is None:
            break
        name = style.name or ""
        if name.lower() == "title":
            return "title", 0
        if m := _HEADING.match(name):
            return "heading", int(m[1])
        if name.lower().startswith("list"):
            return "list", 0
        style = style.base_style
    if p._p.pPr is not None and p._p.pPr.numPr is not None:  # numbered/bulleted by direct formatting
        return "list", 0
    return "text", 0


def _rows(table: Table) -> list[list[str]]:
    """One value per grid column, so values stay under their headers. A cell merged across columns
    appears once per column: a header keeps its name over each, a body row says it once."""
    rows = []
    for r, row in enumerate(table.rows):
        cells, prev = [], None
        for cell in row.cells:
            cells.append(cell.text if r == 0 or cell._tc is not prev else "")
            prev = cell._tc
        rows.append(cells)
    return rows
