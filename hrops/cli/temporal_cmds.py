"""`hrops temporal setup | health`: the product's needs on a Temporal cluster it did not start."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import typer

from hrops.cli.common import console, fail, settings

temporal_app = typer.Typer(
    help="The Temporal cluster: namespace, search attributes, health.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(temporal_app, name="temporal")


@temporal_app.command("setup")
def setup(
    retention_days: int = typer.Option(
        30, "--retention-days", min=1, help="Days a closed workflow's history is kept (new namespace only)"
    ),
    wait: float = typer.Option(60.0, "--wait", min=0, help="Seconds to keep trying while Temporal starts"),
) -> None:
    """Create the namespace (HROPS_TEMPORAL_NAMESPACE) if missing and register the search attributes
    approvals and lookups need. Idempotent: a deployment's setup job runs it on every release."""
    from hrops.runtime.temporal_setup import SetupError
    from hrops.runtime.temporal_setup import setup as run_setup

    try:
        report = asyncio.run(run_setup(settings(), retention=timedelta(days=retention_days), wait=wait))
    except SetupError as e:
        fail(str(e))
    ns = report.namespace
    console.print(
        f"namespace {ns}: created (history kept {retention_days} days)"
        if report.namespace_created
        else f"namespace {ns}: exists",
        highlight=False,
    )
    console.print(
        f"search attributes: registered {', '.join(report.attributes_added)}"
        if report.attributes_added
        else "search attributes: all registered already",
        highlight=False,
    )
    console.print(f"Temporal at {report.address} is ready for hrops", highlight=False)


@temporal_app.command("health")
def health(
    queue: list[str] = typer.Option(
        None, "--queue", "-q", help="Also require this host's worker to poll this task queue (repeatable)"
    ),
) -> None:
    """Exit 0 when Temporal answers and, with --queue, when a worker on this host polls the queue;
    else exit 1 with what is wrong. For container health checks."""
    from hrops.runtime.temporal_setup import health as check
    from workflows import task_queues

    queues = queue or []
    if unknown := sorted(set(queues) - set(task_queues.ALL)):
        fail(f"unknown task queue {', '.join(unknown)}; known: {', '.join(task_queues.ALL)}")
    problems = asyncio.run(check(settings(), queues))
    if problems:
        fail("; ".join(problems))
    console.print("healthy", highlight=False)
