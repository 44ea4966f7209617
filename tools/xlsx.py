"""The house style of the workbooks the product writes (exports, answers, market reports)."""

from __future__ import annotations

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", start_color="1F4E78", end_color="1F4E78")
MONEY = "#,##0"


def header_row(ws: Worksheet, row: int, names: list[str], centred: bool = False) -> None:
    for col, name in enumerate(names, start=1):
        cell = ws.cell(row=row, column=col, value=name)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        if centred:
            cell.alignment = Alignment(horizontal="center")


def widths(ws: Worksheet, columns: list[int]) -> None:
    for i, w in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
