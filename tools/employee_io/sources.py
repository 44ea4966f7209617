"""Rows from a .csv or .xlsx file, streamed, numbered as the user sees them in Excel."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tools.employee_io.errors import ImportFileError, did_you_mean, listing
from tools.employee_io.mapping import SourceSpec

EXCEL = (".xlsx", ".xlsm")
SUPPORTED = (".csv", *EXCEL)


@dataclass
class SourceRow:
    number: int  # the row number Excel shows (the header row counts)
    values: dict[str, Any]


def clean_cell(value: Any) -> Any:
    """Trimmed text, None for blanks, whole floats as ints (Excel stores 1 as 1.0), dates as dates."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    return value


@dataclass
class Table:
    """An open source: its columns and an iterator over non-blank data rows."""

    path: Path
    columns: list[str]
    estimated_rows: int | None
    sheet: str | None = None
    _rows: Iterator[tuple[int, list[Any]]] = field(default=iter(()), repr=False)
    _close: Any = field(default=None, repr=False)

    @property
    def where(self) -> str:
        return f"{self.path.name} (sheet {self.sheet!r})" if self.sheet else self.path.name

    def rows(self) -> Iterator[SourceRow]:
        positions = [(i, c) for i, c in enumerate(self.columns) if c]
        for number, cells in self._rows:
            cleaned = [clean_cell(v) for v in cells]
            if all(v is None for v in cleaned):
                continue  # blank lines and formatted-but-empty Excel rows
            cleaned += [None] * (len(self.columns) - len(cleaned))
            yield SourceRow(number, {c: cleaned[i] for i, c in positions})

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _header(path: Path, cells: list[Any] | None, spec: SourceSpec, sheet: str | None) -> list[str]:
    where = f"{path.name} (sheet {sheet!r})" if sheet else path.name
    if cells is None:
        raise ImportFileError(
            f"{where} is empty"
            if spec.header_row == 1
            else f"{where} has no row {spec.header_row} (source.header_row)"
        )
    names = ["" if v is None else str(v).strip() for v in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ImportFileError(
            f"{where}: row {spec.header_row} (the header row) is empty; set source.header_row "
            "to the row holding the column names"
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and name in seen:
            raise ImportFileError(
                f"{where}: column {name!r} appears twice in the header (columns "
                f"{_letter(seen[name])} and {_letter(i)}); rename one"
            )
        seen.setdefault(name, i)
    return names


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _open_csv(path: Path, spec: SourceSpec) -> Table:
    try:
        handle = path.open(newline="", encoding=spec.encoding)
    except LookupError:
        raise ImportFileError(
            f"unknown text encoding {spec.encoding!r} in source.encoding (try utf-8-sig or gb18030)"
        ) from None
    reader = csv.reader(handle, delimiter=spec.delimiter)

    def records() -> Iterator[tuple[int, list[Any]]]:
        number = 0
        try:
            for number, record in enumerate(reader, start=1):  # noqa: B007 - used in the except
                yield number, record
        except UnicodeDecodeError:
            raise ImportFileError(
                f"{path.name}: row {number + 1} is not {spec.encoding} text; save it as 'CSV UTF-8' or set "
                "source.encoding in the mapping (gb18030 for Chinese Excel's default CSV)"
            ) from None
        except csv.Error as e:
            raise ImportFileError(f"{path.name}: row {number + 1} is not valid CSV: {e}") from None

    stream = records()
    try:
        header_cells = None
        for number, cells in stream:
            if number == spec.header_row:
                header_cells = cells
                break
        columns = _header(path, header_cells, spec, None)
    except BaseException:
        handle.close()
        raise
    if len(columns) == 1 and spec.delimiter == ",":
        for other in (";", "\t", "|"):
            if other in columns[0]:
                handle.close()
                raise ImportFileError(
                    f"{path.name}: the header is one column {columns[0][:60]!r}; the file seems "
                    f"separated by {other!r}: set source.delimiter in the mapping"
                )
    return Table(path, columns, _count_lines(path) - spec.header_row, None, stream, handle.close)


def _count_lines(path: Path) -> int:
    """Lines in the file (a cheap estimate of rows for progress: quoted newlines overcount)."""
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def _open_excel(path: Path, spec: SourceSpec) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise ImportFileError(
            f"cannot read {path.name} as an Excel workbook ({type(e).__name__}: {e}); "
            "save it again from Excel as .xlsx, or export it as CSV"
        ) from None
    try:
        names = wb.sheetnames
        if spec.sheet is None:
            ws = wb.worksheets[0]
        elif spec.sheet in names:
            ws = wb[spec.sheet]
        else:
            raise ImportFileError(
                f"{path.name} has no sheet {spec.sheet!r}{did_you_mean(spec.sheet, names)}; "
                f"its sheets: {listing(names)}"
            )
        rows = ws.iter_rows(min_row=spec.header_row, values_only=True)
        first = next(rows, None)
        columns = _header(path, list(first) if first is not None else None, spec, ws.title)
        total = ws.max_row - spec.header_row if ws.max_row and ws.max_row > spec.header_row else None
    except BaseException:
        wb.close()
        raise
    numbered = ((n, list(cells)) for n, cells in enumerate(rows, start=spec.header_row + 1))
    return Table(path, columns, total, ws.title, numbered, wb.close)


def open_table(path: str | Path, spec: SourceSpec) -> Table:
    """Open a source file for streaming; any file-level problem raises `ImportFileError`."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ImportFileError(
            f"{path.name} is in the old .xls format: save it as .xlsx (Excel workbook) or CSV"
        )
    if suffix not in SUPPORTED:
        raise ImportFileError(
            f"cannot import {path.name}: use an Excel workbook (.xlsx) or a CSV file (.csv)"
        )
    if not path.is_file():
        raise ImportFileError(f"file {str(path)!r} not found")
    if path.stat().st_size == 0:
        raise ImportFileError(f"{path.name} is empty")
    return _open_excel(path, spec) if suffix in EXCEL else _open_csv(path, spec)
