"""`hrops comp research "TITLE"` and `hrops comp show REQ`: a market benchmark with its sources,
approved by a comp analyst (`hrops approve REQ [--edit minimum=...]`) before it is published."""

from __future__ import annotations

import typer
from rich.table import Table

from hrops.cli.common import console, fail
from hrops.cli.request_cmds import AS_HELP, _run, _who, chain_lines, print_panel

comp_app = typer.Typer(help="Compensation market research.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(comp_app, name="comp")


@comp_app.command("research")
def research(
    title: str = typer.Argument(..., help='Internal job title, e.g. "Senior Data Scientist" or 数据科学家'),
    level: str | None = typer.Option(None, "--level", help="L1-L9, or entry/mid/senior/executive"),
    location: str | None = typer.Option(None, "--location", help="City or country, e.g. Shanghai"),
    currency: str = typer.Option("USD", "--currency", help="ISO 4217 currency of the answer, e.g. CNY"),
    soc: str | None = typer.Option(
        None, "--soc", help="The occupation (SOC code) when the title is ambiguous"
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the match and every figure with its source"),
) -> str:
    """Research the market for a job; a comp analyst approves the range before it is published."""
    from pydantic import ValidationError

    from hrops import comp_service
    from tools.market.models import MarketQuestion

    try:
        question = MarketQuestion(title=title, level=level, location=location, currency=currency.upper())
    except ValidationError as e:
        fail("bad question: " + "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors()))
    sub = _run(comp_service.submit_research, _who(as_user), question, soc)
    state = _run(comp_service.wait_for_draft, sub.request_id)
    if json_out:
        console.print_json(state.model_dump_json(include={"request_id", "stage", "draft", "problems"}))
        return sub.request_id
    show_research(state)
    return sub.request_id


@comp_app.command("show")
def show(
    request_id: str = typer.Argument(..., help="e.g. REQ-12"),
    json_out: bool = typer.Option(False, "--json", help="The whole state as JSON"),
) -> None:
    """A market research request: the draft, its approval, and what was published."""
    from hrops import request_service as svc
    from workflows.comp_research.messages import CompResearchState

    state = _run(svc.show, request_id)
    if not isinstance(state, CompResearchState):
        fail(f"{request_id.upper()} is not a market research request")
    if json_out:
        console.print_json(state.model_dump_json())
        return
    show_research(state)


def show_research(state) -> None:  # noqa: ANN001 - workflows.comp_research.messages.CompResearchState
    from tools.market.models import PERCENTILES

    q, d = state.question, state.draft
    lines = [f"[bold]{state.request_id}[/] market research for {q.title}: [bold]{state.stage}[/]"]
    if d is not None:
        m = d.match
        lines.append(f"occupation: SOC {m.soc_code} {m.soc_title} ({m.confidence:.0%}): {m.rationale}")
        table = Table(
            "source",
            "cut",
            "weight",
            *(p.upper() for p in PERCENTILES),
            "sample",
            "date",
            title=f"{q.currency} a year",
        )
        for f in d.figures:
            o = f.original
            cells = (
                ["suppressed"] * len(PERCENTILES)
                if o.suppressed
                else [
                    f"{v:,.0f}" if v is not None else "-"
                    for v in (getattr(f.percentiles, p) for p in PERCENTILES)
                ]
            )
            table.add_row(
                o.source,
                f"{o.category} ({o.location})",
                f"{f.weight:.0%}",
                *cells,
                str(o.sample_size or "-"),
                str(o.reference_date),
            )
        if d.blend:
            table.add_row(
                "[bold]blend[/]",
                "",
                "100%",
                *(
                    f"{v:,.0f}" if v is not None else "-"
                    for v in (getattr(d.blend.percentiles, p) for p in PERCENTILES)
                ),
                "",
                "",
            )
        console.print(table)
        for f in d.figures:
            for a in f.adjustments:
                lines.append(f"  {f.original.source} {a.kind}: {a.description}")
        if d.recommended:
            r = d.recommended
            lines.append(
                f"[bold]recommended: {r.minimum:,.0f} - {r.maximum:,.0f} {r.currency}, midpoint {r.midpoint:,.0f}[/]"
                f" ({r.basis})"
            )
        if d.internal:
            lines += [f"  company: {x}" for x in d.internal.lines()]
        lines += [f"  [yellow]check:[/] {c}" for c in d.critique]
    if state.approval:
        lines += chain_lines(state.approval)
    if state.published_range and state.published:
        r = state.published_range
        lines.append(
            f"[green]published {r.minimum:,.0f} - {r.maximum:,.0f} {r.currency}[/]: {state.published.workbook}"
        )
    elif state.stage == "awaiting_approval":
        lines.append(f"approve: hrops approve {state.request_id} --as <comp analyst> [--edit minimum=...]")
    print_panel(lines, state.problems, state.history)
