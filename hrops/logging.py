"""structlog for everything: our code, the Temporal SDK and uvicorn all end up in one stream.

JSON when stdout is not a terminal (or HROPS_LOG_FORMAT=json), pretty console output otherwise.
Context (workflow_id, run_id, activity, user, request_id) comes from structlog contextvars and
from the `temporal_workflow` / `temporal_activity` extras the Temporal SDK adds to its records.
Log employee ids and request ids, never names, addresses or pay.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from hrops.settings import Settings, get_settings

# Keys the Temporal SDK puts in LogRecord.extra and the names we give them.
_TEMPORAL_KEYS = {
    "workflow_id": "workflow_id",
    "run_id": "run_id",
    "activity_type": "activity",
    "workflow_type": "workflow_type",
    "attempt": "attempt",
}


def _temporal_context(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Lift Temporal's workflow/activity info (record extras) into top-level keys."""
    for attr in ("temporal_workflow", "temporal_activity"):
        info = event.pop(attr, None)
        if isinstance(info, dict):
            for key, name in _TEMPORAL_KEYS.items():
                if key in info and name not in event:
                    event[name] = info[key]
    return event


def _drop_noise(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("color_message", None)  # uvicorn duplicates the message with ANSI codes
    return event


def _use_json(settings: Settings) -> bool:
    if settings.log_format != "auto":
        return settings.log_format == "json"
    return not sys.stderr.isatty()


def configure_logging(settings: Settings | None = None, *, stream: Any = None) -> None:
    """Route stdlib and structlog output through one formatter. Safe to call more than once."""
    settings = settings or get_settings()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _temporal_context,
        _drop_noise,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if _use_json(settings)
        else structlog.dev.ConsoleRenderer(colors=(stream or sys.stderr).isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn installs its own handlers; make its loggers propagate to ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # The context already travels as structured keys; keep Temporal from repeating it in the text.
    from temporalio import activity, workflow

    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
