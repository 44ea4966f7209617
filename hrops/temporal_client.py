"""Connecting to Temporal the same way everywhere: pydantic payloads, one clear error."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.runtime import Runtime

from hrops.settings import Settings, get_settings


class TemporalUnavailable(RuntimeError):
    pass


# Set once this process made a client: its Rust threads may outlive the event loop.
_made_client = False


def made_client() -> bool:
    return _made_client


async def connect(
    settings: Settings | None = None,
    *,
    target: str | None = None,
    runtime: Runtime | None = None,
    worker: bool = False,
) -> Client:
    """A client; `worker`: one that workers are built on, with pydantic-ai's plugin (its agents run
    durably in them). Any other client only starts, queries, signals and updates workflows: it
    needs the same wire format, which Temporal's pydantic converter writes as the plugin's does,
    without importing pydantic-ai (1.8 s against 0.4 s: every `hrops approve` paid it)."""
    if worker:
        from pydantic_ai.durable_exec.temporal import PydanticAIPlugin

        options: dict[str, Any] = {"plugins": [PydanticAIPlugin()]}
    else:
        from temporalio.contrib.pydantic import pydantic_data_converter

        options = {"data_converter": pydantic_data_converter}
    settings = settings or get_settings()
    target = target or settings.temporal_target
    global _made_client
    try:
        client = await Client.connect(
            target, namespace=settings.temporal_namespace, runtime=runtime, **options
        )
        _made_client = True
        return client
    except RuntimeError as e:
        hint = "run `hrops up`" if settings.embedded_temporal else "check HROPS_TEMPORAL_ADDRESS"
        raise TemporalUnavailable(
            f"cannot reach Temporal at {target} ({e.__class__.__name__}); {hint}"
        ) from None
