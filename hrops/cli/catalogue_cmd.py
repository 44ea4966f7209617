"""`hrops catalogue`: what data questions can be asked, and which the data in your scope can answer
(with the reason when it cannot: no learning records, no pay, a snapshot without dates...)."""

from __future__ import annotations

import typer
from rich.table import Table

from hrops.cli.common import console, fail, settings

AS_HELP = "Ask as this user (username or employee id); default HROPS_USER"


def register(app: typer.Typer) -> None:
    app.command()(catalogue)


def catalogue(
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    org: str | None = typer.Option(None, "--org", help="Only this org unit (code) of your scope"),
    json_out: bool = typer.Option(False, "--json", help="Print the listing as JSON"),
) -> None:
    """The metrics you can ask about: names in English and Chinese, definition, sensitivity, and
    whether the data in your scope answers them."""
    from hrops import request_service as svc
    from hrops.clock import today
    from tools.analytics.coverage import coverage
    from tools.analytics.engine import Refused
    from tools.store.db import session_scope

    try:
        who = svc.principal(as_user or settings().user)
    except svc.RequestError as e:
        fail(str(e))
    try:
        with session_scope(settings().db_url) as session:
            listing = coverage(session, who, today(), org)
    except Refused as e:
        fail(str(e))
    if json_out:
        console.print_json(listing.model_dump_json())
        return
    where = listing.scope + (f" / {listing.org_unit}" if listing.org_unit else "")
    table = Table(
        "metric",
        "English",
        "中文",
        "definition",
        "sensitivity",
        "answerable",
        title=f"catalogue v{listing.version}: {where}",
    )
    for m in listing.metrics:
        answer = "[green]yes[/]" if m.answerable else f"[red]no[/]: {m.reason}"
        table.add_row(m.metric, m.en, m.zh, m.definition, m.sensitivity, answer)
    console.print(table)
    for note in listing.notes:
        console.print(f"[dim]{note}[/]", highlight=False)
