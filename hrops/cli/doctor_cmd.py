"""`hrops doctor`: is this deployment able to run? One line per check, exit code 1 on any FAIL.

An operator's command, like `hrops status` and `hrops db upgrade`: it reads settings, files and
servers, no HR data, and must work when the store is down or not migrated, when no user could be
resolved (see hrops/doctor.py for what it checks).
"""

from __future__ import annotations

import asyncio

import typer
from rich.text import Text

from hrops.cli.common import console, settings

STYLE = {"OK": "green", "WARN": "yellow", "FAIL": "bold red"}


def register(app: typer.Typer) -> None:
    app.command()(doctor)


def doctor(
    as_json: bool = typer.Option(False, "--json", help="One JSON object: ok, and every check with its fix"),
) -> None:
    """Check Temporal, search attributes, the store's migrations, the browser, the model endpoint,
    secrets and workers; say what to fix. Reads only: never migrates or writes anything."""
    from hrops.doctor import Status, run

    report = asyncio.run(run(settings()))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        width = max(len(c.name) for c in report.checks)
        for c in report.checks:
            line = Text.assemble(
                (f"{c.status.value:<4}", STYLE[c.status.value]), f"  {c.name:<{width}}  {c.detail}"
            )
            if c.fix:
                line.append(f"  -> fix: {c.fix}")
            console.print(line, highlight=False, soft_wrap=True)
        failed = sum(c.status is Status.FAIL for c in report.checks)
        warned = sum(c.status is Status.WARN for c in report.checks)
        console.print(
            f"{failed} failed, {warned} warning{'s' if warned != 1 else ''}"
            if failed or warned
            else "all good",
            highlight=False,
        )
    if not report.ok:
        raise typer.Exit(1)
