"""`hrops chat "MESSAGE"`: the chat assistant from a terminal (the same one as Slack, Feishu and the console)."""

from __future__ import annotations

import typer

from hrops.cli.common import console
from hrops.cli.request_cmds import AS_HELP, _run, _who


def register(app: typer.Typer) -> None:
    app.command()(chat)


def chat(
    message: str = typer.Argument(
        ..., help='e.g. "Wang Fang moved to 2 Jinke Road, Shanghai from next Monday"'
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    thread: str = typer.Option(
        "cli", "--thread", help="Conversation id: the assistant remembers what it asked"
    ),
    json_out: bool = typer.Option(
        False, "--json", help="Print the typed outcome (intent, fields, missing, started)"
    ),
) -> None:
    """Talk to the assistant: it asks for what is missing, confirms, then starts the request."""
    from hrops import assistant_service

    reply = _run(assistant_service.chat, _who(as_user), thread, message)
    if json_out:
        console.print_json(reply.model_dump_json())
        return
    console.print(reply.text, highlight=False)
