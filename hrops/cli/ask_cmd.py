"""`hrops ask "QUESTION"`: a data question in English or Chinese, answered for the asker's
organisation only, with where the number came from."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from hrops.cli.common import console, err_console, fail, settings

AS_HELP = "Ask as this user (username or employee id); default HROPS_USER"
BAR = 30


def register(app: typer.Typer) -> None:
    app.command()(ask)
    app.command()(sql)


def sql(
    statement: str = typer.Argument(..., help="One SELECT on the curated tables"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Raw SQL for analysts (when HROPS_ANALYTICS_RAW_SQL is on): checked, capped, audited."""
    from hrops import request_service as svc
    from tools.analytics.engine import Refused
    from tools.analytics.raw_sql import run
    from tools.store.db import session_scope

    try:
        who = svc.principal(as_user or settings().user)
    except svc.RequestError as e:
        fail(str(e))
    try:
        with session_scope(settings().db_url, write=True) as session:
            result = run(session, who, statement, settings().analytics_raw_sql)
    except Refused as e:
        fail(str(e))
    table = Table(*result.columns)
    for row in result.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if result.truncated:
        console.print("[dim]more rows than the cap: only the first are shown[/]")


def ask(
    question: str = typer.Argument(
        ..., help='e.g. "attrition in my org last quarter" or "这个月我们单位的学习数据如何?"'
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the typed query and the answer as JSON"),
    xlsx: Path | None = typer.Option(
        None, "--xlsx", help="Also write the answer, its chart and its SQL to this workbook"
    ),
    chart: Path | None = typer.Option(None, "--chart", help="Also write the chart (when one helps) as SVG"),
) -> None:
    """Ask a question about HR and learning data; refused with a reason when it cannot be answered."""
    import asyncio

    from hrops import analytics_service
    from hrops import request_service as svc
    from tools.analytics.catalogue import load

    try:
        who = svc.principal(as_user or settings().user)
    except svc.RequestError as e:
        fail(str(e))
    result = asyncio.run(analytics_service.ask(who, question))
    _files(result, xlsx, chart)
    if json_out:
        console.print_json(result.model_dump_json(exclude={"answer": {"sql"}}))
        return
    console.print(result.text, highlight=False)
    if result.answer is None:
        raise typer.Exit(1)
    _table(result.answer, load())
    console.print(f"[dim]{result.answer.provenance}[/]", highlight=False)
    for note in result.answer.notes:
        console.print(f"[dim]{note}[/]", highlight=False)


def _files(result, xlsx: Path | None, chart: Path | None) -> None:  # noqa: ANN001 - Asked
    """Write the workbook and the SVG; said on stderr so --json output stays parseable."""
    from tools.analytics import workbook
    from tools.analytics.catalogue import load

    if result.answer is None:
        return
    if xlsx:
        workbook.write(result, result.chart, load(), xlsx)
        err_console.print(f"[dim]wrote {xlsx}[/]", highlight=False)
    if chart:
        from tools.analytics.chart import to_svg

        if result.chart is None:
            err_console.print("[dim]no chart: a single figure reads best as a number[/]", highlight=False)
        else:
            chart.parent.mkdir(parents=True, exist_ok=True)
            chart.write_text(to_svg(result.chart), encoding="utf-8")
            err_console.print(f"[dim]wrote {chart}[/]", highlight=False)


def _table(a, cat) -> None:  # noqa: ANN001 - tools.analytics.engine.Answer, Catalogue
    from tools.analytics.ask import fmt

    metrics = [m.value for m in a.query.metrics]
    dims = list(a.rows[0].groups) if a.rows else []
    table = Table("period", *dims, *(cat.metrics[m].en for m in metrics))
    if a.query.compare_to:
        table.add_column(f"{cat.metrics[metrics[0]].en} ({a.query.compare_to.value.replace('_', ' ')})")
    if a.query.percent_of_total:
        table.add_column("share")
    first = metrics[0]
    top = max((r.values[first] or 0 for r in a.rows), default=0)
    currencies = {r.groups.get("currency") for r in a.rows}
    show_bars = len(a.rows) > 1 and top > 0 and len(currencies) == 1  # never bars across currencies
    if show_bars:
        table.add_column("")
    for r in a.rows:
        cells = [r.period, *r.groups.values(), *(fmt(r.values[m], cat.metrics[m].unit) for m in metrics)]
        if a.query.compare_to:
            cells.append(fmt(r.compared.get(first), cat.metrics[first].unit))
        if a.query.percent_of_total:
            cells.append(fmt(r.share.get(first), "percent"))
        if show_bars:
            cells.append("█" * round((r.values[first] or 0) / top * BAR))
        table.add_row(*cells)
    console.print(table)
