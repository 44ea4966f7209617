"""`hrops request bulk FILE.xlsx`: validate every row with a report, then one batch of requests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hrops.cli.common import console, fail, settings
from hrops.cli.request_cmds import AS_HELP, _run, _who, print_panel, request_app

STAGE_STYLE = {
    "completed": "green",
    "rejected": "red",
    "expired": "red",
    "failed": "red",
    "invalid": "red",
    "conflict": "red",
}


def register(app: typer.Typer) -> None:
    request_app.command("bulk")(bulk)


def bulk(
    path: Path = typer.Argument(..., help="An .xlsx file: a header row, then one change per row"),
    valid_only: bool = typer.Option(
        False, "--valid-only", help="Start the valid rows even if others have problems"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report; start nothing"),
    wait: bool = typer.Option(
        False, "--wait", help="Follow the batch with a progress bar until every row ended"
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Record changes from a spreadsheet: every row is validated first (report below); then one
    batch workflow starts a request per row, each with the approvals its rule requires.

    Columns: employee_id, change, effective_on, and per change: title | org_unit, manager_id,
    location | amount, currency, frequency | reason | line1, line2, city, region, postcode, country."""
    from hrops import bulk_service as svc

    who = _who(as_user)
    with Progress(
        TextColumn("checking rows"), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("check", total=None)
        report = _run(svc.validate, who, path, lambda i, n: bar.update(task, completed=i, total=n))
    _report_table(report)
    bad = [r for r in report.rows if not r.ok]
    if bad and not valid_only:
        fail(
            f"{len(bad)} of {len(report.rows)} rows have problems; nothing was started. Fix them, or start the "
            "others with --valid-only"
        )
    if dry_run:
        console.print(f"dry run: {len(report.valid)} rows would start")
        return
    sub = _run(svc.submit, who, report)
    console.print(
        f"[green]{sub.request_id}[/] started: {sub.rows} requests ({sub.workflow_id})", highlight=False
    )
    console.print(f"  follow it: hrops requests show {sub.request_id}")
    if wait:
        _follow(sub.request_id, sub.rows)


def _report_table(report) -> None:  # noqa: ANN001 - hrops.bulk_service.BulkReport
    table = Table(
        "row", "employee", "change", "check", "approval", title=f"{report.source}: {len(report.rows)} rows"
    )
    for r in report.rows:
        approval = f"{r.rule}: {', '.join(r.approvers)}" if r.ok else ""
        check = "[green]ok[/]" if r.ok else "[red]" + "; ".join(r.problems) + "[/]"
        table.add_row(str(r.row), r.employee_id, r.change, check, approval)
    console.print(table)


def _follow(request_id: str, total: int) -> None:
    from hrops import bulk_service as svc
    from hrops.temporal_client import connect

    async def state():  # noqa: ANN202
        return await svc.progress(await connect(settings()), request_id)

    with Progress(
        TextColumn(f"{request_id}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("", total=total)
        while True:
            st, live = asyncio.run(state())
            waiting = sum(s == "awaiting_approval" for s in live.values())
            bar.update(task, completed=st.done, description=f"waiting for approval: {waiting}")
            if st.stage == "completed":
                break
            time.sleep(1.0)


def show_bulk(state, live: dict[str, str]) -> None:  # noqa: ANN001 - workflows.bulk_change.messages.BulkState
    """A batch: its rows with their live stages and the counts so far."""
    counts: dict[str, int] = {}
    for r in state.rows:
        stage = r.stage if r.stage != "pending" else live.get(r.request_id, "starting")
        counts[stage] = counts.get(stage, 0) + 1
    lines = [
        f"[bold]{state.request_id}[/] bulk from {state.source}: [bold]{state.stage}[/] ({state.done}/{len(state.rows)} ended)",
        f"requested by {state.requested_by} at {state.requested_at:%Y-%m-%d %H:%M} UTC",
        "rows: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
    ]
    print_panel(lines, state.problems, state.history)
    table = Table("row", "request", "employee", "change", "stage")
    for r in state.rows:
        stage = r.stage if r.stage != "pending" else live.get(r.request_id, "starting")
        style = STAGE_STYLE.get(stage, "yellow" if stage == "awaiting_approval" else "")
        table.add_row(
            str(r.row), r.request_id, r.employee_id, r.kind, f"[{style}]{stage}[/]" if style else stage
        )
    console.print(table)
