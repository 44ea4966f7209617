"""Workbooks (a holiday calendar, a benefits table): one section per non-empty sheet, the first
non-empty row is the header, every further row one `Header: value; ...` line."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from tools.knowledge.models import KnowledgeImportError, ParsedSection, ReadResult
from tools.knowledge.sections import normalise, one_line, slug, table_lines


def read_xlsx(path: str) -> ReadResult:
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise KnowledgeImportError(
            path,
            f"is not a readable Excel (.xlsx) workbook ({type(e).__name__}: {e})",
            "open it in Excel or LibreOffice and save it again as .xlsx (an old .xls renamed to .xlsx "
            "does not work)",
        ) from None
    try:
        sheets = [(ws.title, [[_value(c) for c in row] for row in ws.iter_rows()]) for ws in wb.worksheets]
        title = one_line(wb.properties.title or "") or None
    finally:
        wb.close()  # read-only mode keeps the file open until closed
    sections, used = [], set()
    for name, rows in sheets:
        text = normalise("\n".join(table_lines(rows)))
        if not text:
            continue
        base = slug(name) or "sheet"
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        sections.append(
            ParsedSection(anchor=anchor, heading=one_line(name), path=[one_line(name)], text=text)
        )
    return ReadResult(title=title, sections=sections)


def _value(cell: object) -> str:
    """What the cell shows: dates as YYYY-MM-DD, 15.0 as 15, 0.15 in a percent format as 15%."""
    v = getattr(cell, "value", None)
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == time(0) else v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.isoformat(timespec="minutes")
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if "%" in (getattr(cell, "number_format", "") or ""):
            return f"{v * 100:.10g}%"
        return str(int(v)) if v.is_integer() else f"{v:.10g}"
    return str(v)
