"""`hrops up | down | status | worker | api`: the embedded runtime."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table

from hrops.cli.common import console, fail, settings


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(worker)
    app.command()(api)


def up() -> None:
    """Start the stack in the background: Temporal dev server (unless HROPS_TEMPORAL_ADDRESS is set),
    workers and API, each checked healthy before the next."""
    from hrops.runtime.launcher import LaunchError
    from hrops.runtime.launcher import up as start

    try:
        asyncio.run(start(settings(), report=lambda line: console.print(line, highlight=False)))
    except LaunchError as e:
        fail(str(e))
    status()


def down() -> None:
    """Stop exactly what `hrops up` started (pid files under var/run)."""
    from hrops.runtime.launcher import down as stop

    stop(settings(), report=lambda line: console.print(line, highlight=False))


def status() -> None:
    """Show each part of the stack, its state and address."""
    from hrops.runtime.launcher import status as current

    cfg = settings()
    table = Table("part", "state", "pid", "address", "log")
    for s in current(cfg):
        colour = {"running": "green", "external": "cyan"}.get(s.state, "red")
        table.add_row(s.part, f"[{colour}]{s.state}[/]", str(s.pid or ""), s.address, s.log or s.detail)
    console.print(table)
    if cfg.embedded_temporal and cfg.temporal_ui_port:
        console.print(f"Temporal UI: http://{cfg.temporal_host}:{cfg.temporal_ui_port}", highlight=False)


def worker(
    queue: list[str] = typer.Option(None, "--queue", "-q", help="Task queue(s) to serve; default: all"),
    metrics_port: int | None = typer.Option(
        None,
        "--metrics-port",
        min=1,
        max=65535,
        help="Serve the Temporal SDK's Prometheus metrics on this port (default: HROPS_WORKER_METRICS_PORT)",
    ),
) -> None:
    """Run workers in the foreground (what `hrops up` starts in the background). SIGTERM stops gracefully."""
    from hrops.metrics import worker_metrics_address, worker_runtime
    from hrops.temporal_client import TemporalUnavailable, connect
    from tools.store.db import migrate
    from workflows import task_queues
    from workflows.worker import run_workers

    queues = queue or list(task_queues.ALL)
    unknown = set(queues) - set(task_queues.ALL)
    if unknown:
        fail(f"unknown task queue {', '.join(sorted(unknown))}; known: {', '.join(task_queues.ALL)}")
    migrate(settings().db_url)
    runtime = None
    if address := worker_metrics_address(settings(), queues, metrics_port):
        try:
            runtime = worker_runtime(address)
        except ValueError as e:  # the port is taken
            reason = str(e).rsplit(": ", 1)[-1]  # "Address already in use (os error 98)"
            fail(
                f"cannot serve worker metrics on {address} ({reason}): "
                "choose a free port with --metrics-port or HROPS_WORKER_METRICS_PORT"
            )
        console.print(f"worker metrics: http://{address}/metrics", highlight=False)

    async def main() -> None:
        from contextlib import nullcontext

        from hrops.channels.delivery import in_background

        try:
            client = await connect(settings(), runtime=runtime)
        except TemporalUnavailable as e:
            fail(str(e))
        # The main worker also delivers the outbox to chat channels (when any is configured).
        async with in_background(settings()) if task_queues.MAIN in queues else nullcontext():
            await run_workers(client, queues)

    asyncio.run(main())
    # Shutdown is complete. Leave without interpreter finalisation: the Temporal core runtime's
    # native threads can abort a normal exit ("PyGILState_Release"), turning a clean stop into
    # SIGABRT. Nothing is left to flush but our own streams.
    import os
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def api() -> None:
    """Run the HTTP API in the foreground."""
    import uvicorn

    from tools.store.db import migrate

    cfg = settings()
    migrate(cfg.db_url)
    uvicorn.run("hrops.api.app:app", host=cfg.api_host, port=cfg.api_port, log_config=None, access_log=True)
