"""An answer as an Excel workbook (`hrops ask ... --xlsx FILE`): the answer sheet (question, answer,
the table with number formats, provenance, notes), a chart sheet with a native Excel chart from the
same spec as the SVG, and the typed query with the SQL that produced the figures."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tools.analytics.ask import Asked
from tools.analytics.catalogue import Catalogue
from tools.analytics.chart import ChartSpec
from tools.xlsx import header_row

FORMATS = {
    "percent": '0.0"%"',
    "hours": "#,##0.0",
    "years": "0.0",
    "currency": "#,##0",
    "ratio": "0.00",
}


def write(asked: Asked, chart: ChartSpec | None, cat: Catalogue, path: Path) -> Path:
    a = asked.answer
    if a is None:
        raise ValueError("a refused question has no figures to write")
    wb = Workbook()
    ws = wb.active
    ws.title = "Answer"
    ws["A1"], ws["A2"] = asked.question, asked.text
    ws["A1"].font = Font(bold=True, size=13)
    metrics = [m.value for m in a.query.metrics]
    dims = list(a.rows[0].groups) if a.rows else []
    first = metrics[0]
    names = ["period", *dims, *(cat.metrics[m].en for m in metrics)]
    if a.query.compare_to:
        names.append(f"{cat.metrics[first].en} ({a.query.compare_to.value.replace('_', ' ')})")
    if a.query.percent_of_total:
        names.append("share of total (%)")
    header_row(ws, 4, names)
    units = [cat.metrics[m].unit for m in metrics]
    for i, r in enumerate(a.rows, start=5):
        cells: list[object] = [r.period, *r.groups.values(), *(r.values[m] for m in metrics)]
        formats = [None] * (1 + len(r.groups)) + units
        if a.query.compare_to:
            cells.append(r.compared.get(first))
            formats.append(units[0])
        if a.query.percent_of_total:
            cells.append(r.share.get(first))
            formats.append("percent")
        for col, (value, unit) in enumerate(zip(cells, formats, strict=True), start=1):
            cell = ws.cell(
                row=i,
                column=col,
                value=value if value is not None else "suppressed" if r.suppressed else None,
            )
            if unit in FORMATS and value is not None:
                cell.number_format = FORMATS[unit]
    below = 6 + len(a.rows)
    ws.cell(row=below, column=1, value=a.provenance).font = Font(italic=True, color="555555")
    for k, note in enumerate(a.notes, start=1):
        ws.cell(row=below + k, column=1, value=note).font = Font(italic=True, color="555555")
    for col in range(1, len(names) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 18 if col > 1 else 24
    if chart is not None:
        _chart_sheet(wb, chart)
    q = wb.create_sheet("Query")
    q["A1"] = "typed query"
    q["B1"] = a.query.model_dump_json(exclude_defaults=True)
    for k, sql in enumerate(a.sql, start=2):
        q.cell(row=k, column=1, value="sql")
        q.cell(row=k, column=2, value=sql)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _chart_sheet(wb: Workbook, spec: ChartSpec) -> None:
    ws = wb.create_sheet("Chart")
    header_row(ws, 1, [spec.x_label, *(s.name for s in spec.series)])
    for i, label in enumerate(spec.labels, start=2):
        ws.cell(row=i, column=1, value=label)
        for k, s in enumerate(spec.series, start=2):
            ws.cell(row=i, column=k, value=s.values[i - 2])
    chart = LineChart() if spec.kind == "line" else BarChart()
    chart.title, chart.y_axis.title, chart.x_axis.title = spec.title, spec.unit, spec.x_label
    chart.height, chart.width = 9, 18
    last = len(spec.labels) + 1
    chart.add_data(
        Reference(ws, min_col=2, max_col=1 + len(spec.series), min_row=1, max_row=last), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
    ws.add_chart(chart, f"{get_column_letter(len(spec.series) + 3)}2")
