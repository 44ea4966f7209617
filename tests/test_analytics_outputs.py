"""What an answer looks like besides its text: the chart chosen from the typed query (a line over
time, bars across groups, none for one figure), its SVG, and the Excel workbook of `hrops ask --xlsx`."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from hrops.cli import app
from tests.conftest import TODAY
from tools.analytics.ask import ask
from tools.analytics.chart import to_svg
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import Employee

SVG = "{http://www.w3.org/2000/svg}"


def _ask(url: str, question: str, who: str = "admin"):  # noqa: ANN202 - Asked
    with session_scope(url, write=True) as s:
        return ask(s, resolve_principal(s, who, TODAY), question, TODAY)


def test_a_trend_is_a_line_over_every_period_with_zero_where_nothing_happened(demo: str) -> None:
    asked = _ask(demo, "hires by month")  # a trend without a period: the last 12 months
    chart = asked.chart
    assert chart is not None and chart.kind == "line"
    months = [f"{y}-{m:02d}" for y, m in [(2025, 12), *((2026, k) for k in range(1, 12))]]
    assert chart.labels == months
    with session_scope(demo) as s:
        hires = Counter(
            f"{d:%Y-%m}"
            for d in s.scalars(select(Employee.hire_date).where(Employee.hire_date >= date(2025, 12, 1)))
        )
    assert chart.series[0].values == [float(hires[m]) for m in months]
    assert 0.0 in chart.series[0].values  # months without a hire are drawn at zero, not left out
    svg = ElementTree.fromstring(to_svg(chart))
    assert len(svg.findall(f"{SVG}polyline")) == 1
    assert [t.text for t in svg.findall(f"{SVG}text")][0] == "hires"


def test_a_split_is_bars_and_pay_is_never_drawn_across_currencies(demo: str) -> None:
    pay = _ask(demo, "average salary by level")
    assert pay.chart is not None and pay.chart.kind == "bar"
    shown = [r for r in pay.answer.rows if r.groups["currency"] == "CNY"]
    assert pay.chart.title == "average base pay (CNY)"  # most people are paid in CNY
    assert pay.chart.labels == [r.groups["level"] for r in shown]
    assert pay.chart.series[0].values == [r.values["average_base_pay"] for r in shown]
    assert None in pay.chart.series[0].values  # a suppressed group is a gap, not a zero bar
    assert "CNY" in pay.text and "GBP" not in pay.text  # the narrative ranks within one currency too
    bars = ElementTree.fromstring(to_svg(pay.chart)).findall(f"{SVG}rect")
    assert len([b for b in bars if b.find(f"{SVG}title") is not None]) == sum(
        v is not None for v in pay.chart.series[0].values
    )
    assert _ask(demo, "headcount").chart is None  # one figure reads best as a number


def test_hrops_ask_writes_a_workbook_with_the_table_a_chart_and_the_sql(demo: str, tmp_path: Path) -> None:
    out, svg = tmp_path / "answer.xlsx", tmp_path / "chart.svg"
    result = CliRunner().invoke(
        app,
        ["ask", "headcount by location", "--as", "admin", "--json", "--xlsx", str(out), "--chart", str(svg)],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    rows = {r["groups"]["location"]: r["values"]["headcount"] for r in printed["answer"]["rows"]}
    wb = load_workbook(out)
    assert wb.sheetnames == ["Answer", "Chart", "Query"]
    sheet = wb["Answer"]
    assert sheet["A1"].value == "headcount by location" and sheet["A2"].value.startswith("Headcount")
    assert [c.value for c in sheet[4]] == ["period", "location", "headcount"]
    table = {
        sheet.cell(row=r, column=2).value: sheet.cell(row=r, column=3).value for r in range(5, 5 + len(rows))
    }
    assert table == rows
    assert "catalogue v" in sheet.cell(row=6 + len(rows), column=1).value  # the provenance line
    assert len(wb["Chart"]._charts) == 1
    assert "SELECT" in wb["Query"]["B2"].value and '"headcount"' in wb["Query"]["B1"].value
    assert ElementTree.parse(svg).getroot().tag == f"{SVG}svg"
