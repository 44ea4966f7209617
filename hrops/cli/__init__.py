"""`hrops` command line (typer). Each module adds one group of commands."""

from __future__ import annotations

import typer

from hrops.cli import common

app = typer.Typer(
    name="hrops",
    help="HR Ops Orchestrator: durable HR workflows with AI agents and human approvals.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _register() -> None:
    from hrops.cli import (
        admin_cmds,
        approval_cmds,
        ask_cmd,
        audit_cmds,
        bulk_cmds,
        case_cmds,
        catalogue_cmd,
        channel_cmds,
        chat_cmd,
        comp_cmds,
        demo_cmd,
        digest_cmds,
        doctor_cmd,
        io_cmds,
        kb_cmds,
        legacy_cmds,
        market_cmds,
        onboard_cmds,
        receipt_cmds,
        request_cmds,
        review_cmds,
        runtime_cmds,
        seed_cmd,
        temporal_cmds,
    )

    for module in (
        runtime_cmds,
        temporal_cmds,
        doctor_cmd,
        seed_cmd,
        io_cmds,
        request_cmds,
        onboard_cmds,
        bulk_cmds,
        approval_cmds,
        legacy_cmds,
        ask_cmd,
        catalogue_cmd,
        digest_cmds,
        market_cmds,
        comp_cmds,
        admin_cmds,
        audit_cmds,
        receipt_cmds,
        channel_cmds,
        chat_cmd,
        review_cmds,
        kb_cmds,
        case_cmds,
        demo_cmd,
    ):
        module.register(app)


@app.callback()
def _root() -> None:
    """HR Ops Orchestrator: durable HR workflows with AI agents and human approvals."""


@app.command()
def version() -> None:
    """Print the product version."""
    from hrops import __version__

    common.console.print(f"hrops {__version__}")


_register()


def main() -> None:
    common.run(app)
