"""Shared CLI plumbing: settings, the store, and turning expected errors into one-line messages."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer
from rich.console import Console

from hrops.logging import configure_logging
from hrops.settings import Settings, get_settings

# Piped output (logs, CI) gets a wide fixed width instead of rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


class CliError(Exception):
    """An expected failure: printed as one line (what is wrong, what to do), exit code 1."""


def fail(message: str) -> NoReturn:
    raise CliError(message)


def settings() -> Settings:
    return get_settings()


def store_url(migrate: bool = True) -> str:
    """The HR store URL, migrated to the current schema."""
    from tools.store.db import migrate as do_migrate

    url = settings().db_url
    if migrate:
        do_migrate(url)
    return url


def _check_settings() -> None:
    from pydantic import ValidationError

    try:
        get_settings()
    except ValidationError as e:
        for err in e.errors():
            name = "HROPS_" + "_".join(str(p) for p in err["loc"]).upper()
            err_console.print(
                f"[bold red]error:[/] bad setting {name}={err.get('input')!r}: {err['msg']}", highlight=False
            )
        sys.exit(2)


def run(app: typer.Typer) -> None:
    _check_settings()
    configure_logging()
    try:
        app()  # standalone: click reports usage errors and exits itself
    except CliError as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False)
        sys.exit(1)
