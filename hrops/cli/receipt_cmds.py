"""`hrops receipts list|show|export`: what every model call sent, and where (docs/security.md).

A receipt names the endpoint, the classes of data masked and let through, bytes and tokens; with
the offline model it says nothing left. Listing needs HR ops or admin; the export holds the exact
text each call sent (which may name people when the endpoint's policy allows it): admins only.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path

import typer
from rich.table import Table

from hrops.cli.common import acting_user, console, fail, store_url

receipts_app = typer.Typer(help="Egress receipts: what each model call sent, where, and what was masked.")

AS_HELP = "Act as this user (username or employee id); default HROPS_USER"


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"


def register(app: typer.Typer) -> None:
    app.add_typer(receipts_app, name="receipts")


def _since(day: str | None) -> datetime | None:
    if day is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(day), time.min)
    except ValueError:
        fail(f"--since {day!r} is not a date: give it as YYYY-MM-DD")


@receipts_app.command("list")
def list_receipts(
    request: str | None = typer.Option(
        None, "--request", help="Only the calls made for this request (REQ-12)"
    ),
    egress_only: bool = typer.Option(
        False, "--egress-only", help="Only calls that sent something off the machine"
    ),
    since: str | None = typer.Option(None, "--since", help="Only calls on or after this day (YYYY-MM-DD)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """One line per model call: agent, endpoint, what was masked and what was sent."""
    from tools.privacy import receipts
    from tools.store.db import session_scope

    acting_user("read egress receipts", "hr_ops", "admin", as_user=as_user)
    with session_scope(store_url()) as s:
        rows = (
            receipts.for_request(s, request.strip().upper())
            if request
            else receipts.listed(s, since=_since(since), egress_only=egress_only)
        )
    if request and not rows:
        fail(f"no model calls were made for {request} (or there is no such request)")
    table = Table("#", "at (UTC)", "agent", "request", "endpoint", "what left")
    for r in rows:
        table.add_row(
            str(r.id), f"{r.at:%Y-%m-%d %H:%M:%S}", r.agent, r.request_id or "-", r.endpoint, r.summary
        )
    console.print(table)
    left = sum(1 for r in rows if r.egress)
    console.print(
        f"{len(rows)} model calls; {left} sent data off the machine ({sum(r.bytes_sent for r in rows)} bytes)"
        if left
        else f"{len(rows)} model calls; nothing left the machine"
    )


@receipts_app.command("show")
def show(
    receipt_id: int = typer.Argument(..., help="The receipt number from `receipts list`"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """One receipt in full, with the exact text the endpoint received (admins)."""
    from tools.privacy import receipts
    from tools.store.db import session_scope

    acting_user("read what a model call sent", "admin", as_user=as_user)
    with session_scope(store_url()) as s:
        found = receipts.by_id(s, receipt_id)
    if found is None:
        fail(f"no receipt {receipt_id}: `hrops receipts list` shows their numbers")
    console.print_json(found.model_dump_json())


@receipts_app.command("export")
def export(
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of standard output"),
    fmt: Format = typer.Option(Format.CSV, "--format", help="csv (no text) or json (with the text sent)"),
    since: str | None = typer.Option(None, "--since", help="Only calls on or after this day (YYYY-MM-DD)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Every receipt, for a compliance review or a regulator (admins)."""
    from tools.privacy import receipts
    from tools.store.db import session_scope

    acting_user("export egress receipts", "admin", as_user=as_user)
    with session_scope(store_url()) as s:
        rows = receipts.listed(s, since=_since(since))
    text = receipts.to_csv(rows) if fmt is Format.CSV else receipts.to_json(rows)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"{len(rows)} receipts written to {out}")
