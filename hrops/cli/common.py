"""Shared CLI plumbing: settings, the store, and turning expected errors into one-line messages."""

from __future__ import annotations

import logging
import os
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


def acting_user(doing: str, *roles: str, as_user: str | None = None) -> str:
    """The user the CLI acts as (`--as`, else HROPS_USER), refused unless they hold one of `roles`.
    A store without users yet (being seeded or imported) accepts any name: nobody holds a role."""
    from sqlalchemy import func, select

    from hrops.clock import today
    from tools.store.db import session_scope
    from tools.store.identity import UnknownUser, resolve_principal
    from tools.store.models import User

    who = as_user or settings().user
    with session_scope(store_url()) as s:
        if not s.scalar(select(func.count()).select_from(User)):
            return who
        try:
            principal = resolve_principal(s, who, today())
        except UnknownUser as e:
            fail(str(e))
    if not principal.has(*roles):
        fail(
            f"{principal.username} may not {doing}: that needs the {' or '.join(roles)} role "
            "(act as such a user with --as or HROPS_USER)"
        )
    return principal.username


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
    code: int | str | None = 0
    try:
        app()  # standalone: click reports usage errors and exits itself
    except CliError as e:
        err_console.print(f"[bold red]error:[/] {e}", highlight=False)
        code = 1
    except SystemExit as e:
        code = e.code
    except Exception as e:
        from tools.store.db import busy_message  # only on this path: the CLI starts faster without it

        if (message := busy_message(e)) is None:
            raise
        err_console.print(f"[bold red]error:[/] {message}", highlight=False)
        code = 1
    _exit(code)


def _exit(code: int | str | None) -> None:
    """Exit with `code`. After a Temporal client was made, skip interpreter teardown: the client's
    Rust threads can crash CPython's finalization (temporalio/sdk-python#300, an open issue)."""
    from hrops.temporal_client import made_client

    if not made_client():
        sys.exit(code)
    if isinstance(code, str):
        err_console.print(code)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code or 0)
