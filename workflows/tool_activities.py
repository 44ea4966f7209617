"""Temporal activities derived from the tool registry, and the helper workflows use to call them.

Each registered tool becomes the activity `tool:<name>` with the tool's own typed input and
output. Refusals (`ToolError`) become non-retryable application errors carrying the tool's
message; anything else (a locked database, a dropped connection) is retried by Temporal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from sqlalchemy.exc import SQLAlchemyError

    from tools.registry import ToolContext, ToolError, ToolRegistry, ToolSpec
    from tools.store.db import busy_message

Out = TypeVar("Out", bound=BaseModel)

TOOL_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1))


def _activity_for(registry: ToolRegistry, spec: ToolSpec[Any, Any]) -> Callable[..., Any]:
    def run(ctx: ToolContext, args: BaseModel) -> BaseModel:
        # Bound for every log line this call makes, including the SDK's own.
        with structlog.contextvars.bound_contextvars(user=ctx.actor, request_id=ctx.request_id):
            try:
                result = registry.call(spec.name, ctx, args)
            except ToolError as e:
                activity.logger.info("tool refused", extra={"tool": spec.name, "error": type(e).__name__})
                raise ApplicationError(str(e), type=type(e).__name__, non_retryable=True) from None
            except SQLAlchemyError as e:
                # Retried by Temporal (a locked or unreachable store). The driver's text quotes the
                # SQL and its parameters, personal values among them: only the kind leaves here.
                activity.logger.warning(
                    "tool store error", extra={"tool": spec.name, "error": type(e).__name__}
                )
                raise ApplicationError(
                    busy_message(e) or f"store error ({type(e).__name__})", type=type(e).__name__
                ) from None
            activity.logger.info("tool call", extra={"tool": spec.name})
            return result

    run.__name__ = spec.activity_name.replace(":", "_").replace(".", "_")
    run.__qualname__ = run.__name__
    run.__annotations__ = {"ctx": ToolContext, "args": spec.input_model, "return": spec.output_model}
    return activity.defn(name=spec.activity_name)(run)


def tool_activities(registry: ToolRegistry) -> list[Callable[..., Any]]:
    return [_activity_for(registry, spec) for spec in registry]


async def call_tool(
    name: str,
    ctx: ToolContext,
    args: BaseModel,
    result_type: type[Out],
    *,
    timeout: timedelta = timedelta(seconds=30),
) -> Out:
    """Run a registered tool as an activity from workflow code."""
    return await workflow.execute_activity(
        f"tool:{name}",
        args=[ctx, args],
        result_type=result_type,
        start_to_close_timeout=timeout,
        retry_policy=TOOL_RETRY,
    )


def refusal_of(e: Exception) -> str:
    """What a failed activity said, for a person: a tool's refusal message, else the cause."""
    cause = getattr(e, "cause", None)
    return cause.message if isinstance(cause, ApplicationError) else str(cause or e)
