"""Worker wiring: one worker per task queue, built from the registries, stopped gracefully."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from hrops.logging import get_logger
from hrops.settings import get_settings
from workflows import task_queues

log = get_logger(__name__)

# Tool activities are synchronous (SQLAlchemy); they run on this many threads per worker.
ACTIVITY_THREADS = 16
# On SIGTERM, running activities get this long to finish before they are cancelled.
GRACEFUL_SHUTDOWN = timedelta(seconds=20)


def workflows_for(queue: str) -> list[type]:
    from workflows.bulk_change.workflow import BulkChangeWorkflow
    from workflows.comp_research.workflow import CompResearchWorkflow
    from workflows.kb_cases.workflow import CaseRemindersWorkflow
    from workflows.learning_digest.workflow import LearningDigestWorkflow
    from workflows.legacy_sync.workflow import LegacySyncWorkflow
    from workflows.onboarding.workflow import OnboardingWorkflow
    from workflows.record_change.workflow import RecordChangeWorkflow

    return (
        [
            RecordChangeWorkflow,
            OnboardingWorkflow,
            BulkChangeWorkflow,
            LegacySyncWorkflow,
            LearningDigestWorkflow,
            CompResearchWorkflow,
            CaseRemindersWorkflow,
        ]
        if queue == task_queues.MAIN
        else []
    )


def activities_for(queue: str) -> list[Callable[..., Any]]:
    if queue == task_queues.RPA:
        from workflows.legacy_sync.activities import propose_mapping, push_record, save_mapping
        from workflows.rpa_activities import browser_check

        return [browser_check, push_record, propose_mapping, save_mapping]
    import tools.hr  # noqa: F401  (registers the HR tools)
    import tools.market.tools  # noqa: F401  (registers the market research tools)
    import tools.onboarding  # noqa: F401  (registers the onboarding tools)
    from tools.registry import registry
    from workflows.audit_activities import record_event
    from workflows.kb_cases.activities import remind_overdue_cases
    from workflows.learning_digest.activities import send_learning_digest
    from workflows.notify_activities import queue_message
    from workflows.tool_activities import tool_activities

    return [
        *tool_activities(registry),
        record_event,
        queue_message,
        send_learning_digest,
        remind_overdue_cases,
    ]


def build_worker(client: Client, queue: str, **options: Any) -> Worker:
    """A worker for one task queue. The pydantic-ai plugin comes with the client."""
    if queue not in task_queues.ALL:
        raise ValueError(f"unknown task queue {queue!r}; known: {', '.join(task_queues.ALL)}")
    options.setdefault("graceful_shutdown_timeout", GRACEFUL_SHUTDOWN)
    if queue == task_queues.RPA:
        # One browser context per running push: a push beyond that would wait for a context
        # without a heartbeat, and Temporal could start its retry beside it.
        options.setdefault("max_concurrent_activities", get_settings().legacy_contexts)
    return Worker(
        client,
        task_queue=queue,
        workflows=workflows_for(queue),
        activities=activities_for(queue),
        activity_executor=ThreadPoolExecutor(ACTIVITY_THREADS, thread_name_prefix=f"{queue}-activity"),
        **options,
    )


async def _ensure_schedules(client: Client) -> None:
    """The product's own schedules (the hourly case reminders); a cluster that refuses them leaves
    the worker running, with a warning saying what is missing."""
    from workflows.kb_cases.schedule import ensure_schedule

    try:
        if await ensure_schedule(client):
            log.info("created the hourly policy case reminder schedule")
    except Exception as e:  # noqa: BLE001 - permissions or an old server: the worker still serves
        log.warning(
            "could not create the policy case reminder schedule; open cases are not reminded of "
            "(run `hrops cases remind` hourly instead)",
            error=type(e).__name__,
        )


async def run_workers(client: Client, queues: Sequence[str]) -> None:
    """Run until SIGTERM or SIGINT, then shut down gracefully (running activities may finish)."""
    workers = [build_worker(client, q) for q in queues]
    if task_queues.MAIN in queues:
        await _ensure_schedules(client)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runs = [asyncio.create_task(w.run()) for w in workers]
    log.info("workers started", task_queues=list(queues))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait([*runs, stopping], return_when=asyncio.FIRST_COMPLETED)
    await asyncio.gather(*(w.shutdown() for w in workers))
    for run in runs:  # a worker that died on its own: surface why
        if run.done() and not run.cancelled() and run.exception():
            raise run.exception()  # type: ignore[misc]
