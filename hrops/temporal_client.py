"""Connecting to Temporal the same way everywhere: the pydantic-ai plugin, one clear error."""

from __future__ import annotations

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
    settings: Settings | None = None, *, target: str | None = None, runtime: Runtime | None = None
) -> Client:
    # Imported here: pydantic-ai's Temporal plugin takes 0.6 s to import, and commands such as
    # `hrops status` and `hrops down` import this module without ever connecting.
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin

    settings = settings or get_settings()
    target = target or settings.temporal_target
    global _made_client
    try:
        client = await Client.connect(
            target, namespace=settings.temporal_namespace, plugins=[PydanticAIPlugin()], runtime=runtime
        )
        _made_client = True
        return client
    except RuntimeError as e:
        hint = "run `hrops up`" if settings.embedded_temporal else "check HROPS_TEMPORAL_ADDRESS"
        raise TemporalUnavailable(
            f"cannot reach Temporal at {target} ({e.__class__.__name__}); {hint}"
        ) from None
