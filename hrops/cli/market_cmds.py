"""`hrops market survey import|list` and `hrops market rates set|show`: the market data a company
adds to the shipped sources (salary surveys it bought, its own currency rates)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import typer
from rich.table import Table

from hrops.cli.common import console, fail

market_app = typer.Typer(
    help="Market data for compensation research: surveys and currency rates.", no_args_is_help=True
)
survey_app = typer.Typer(help="Salary surveys imported from xlsx or csv files.", no_args_is_help=True)
rates_app = typer.Typer(help="The dated currency table (units per USD).", no_args_is_help=True)
market_app.add_typer(survey_app, name="survey")
market_app.add_typer(rates_app, name="rates")


T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.add_typer(market_app, name="market")


def _checked(call: Callable[[], T]) -> T:
    """The call's result; a MarketError (a bad file, rate or name) becomes the one-line CLI error."""
    from tools.market.models import MarketError

    try:
        return call()
    except MarketError as e:
        fail(str(e))


@survey_app.command("import")
def survey_import(
    file: Path = typer.Argument(..., help="The survey export (.xlsx or .csv)"),
    mapping: Path = typer.Option(..., "--mapping", help="YAML column mapping (docs/market.md)"),
    name: str = typer.Option(..., "--name", help="Short name, e.g. acme-tech-2026 (again: replaces it)"),
) -> None:
    """Check every row of a survey file, then keep it so market research uses it."""
    from hrops.clock import today
    from tools.market.surveys import import_survey

    done = _checked(lambda: import_survey(file, mapping, name, today=today()))
    verb = "replaced" if done.replaced else "imported"
    console.print(
        f"survey {done.name} {verb}: {done.rows} rows from {done.file_name} "
        f"({done.citation.publisher}, {done.citation.title}); research now uses it as survey:{done.name}",
        highlight=False,
    )


@survey_app.command("list")
def survey_list() -> None:
    """The imported surveys."""
    from tools.market.surveys import list_surveys

    found = _checked(list_surveys)
    if not found:
        console.print("no surveys imported (hrops market survey import FILE --mapping MAP.yaml --name NAME)")
        return
    table = Table("name", "rows", "file", "publisher", "title", "imported")
    for s in found:
        table.add_row(
            s.name, str(s.rows), s.file_name, s.citation.publisher, s.citation.title, str(s.imported_on)
        )
    console.print(table)


@rates_app.command("set")
def rates_set(
    currency: str = typer.Argument(..., help="ISO 4217 code, e.g. CNY"),
    rate: float = typer.Argument(..., help="Units of the currency for 1 USD, e.g. 7.12"),
    as_of: str | None = typer.Option(None, "--as-of", help="Date of the rate, YYYY-MM-DD (default: today)"),
) -> None:
    """Set your own rate for a currency; it overrides the shipped table."""
    from hrops.clock import today
    from tools.market.rates import set_rate, user_file

    try:
        day = date.fromisoformat(as_of) if as_of else today()
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date: use YYYY-MM-DD")
    saved = _checked(lambda: set_rate(currency, rate, day))
    console.print(
        f"{saved.currency}: {saved.per_usd:g} per USD as of {saved.as_of} (saved in {user_file()})",
        highlight=False,
    )


@rates_app.command("show")
def rates_show() -> None:
    """The currency table in force, with each rate's date and origin."""
    from tools.market.rates import load_rates

    table_in_force = _checked(load_rates)
    table = Table("currency", "per USD", "as of", "from")
    for code in table_in_force.supported:
        r = table_in_force.rates[code]
        table.add_row(
            code,
            f"{r.per_usd:g}",
            str(r.as_of),
            "your rate" if r.origin == "user" else "shipped (illustrative)",
        )
    console.print(table)
