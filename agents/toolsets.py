"""Registry tools as a pydantic-ai toolset: an agent can use exactly the registered tools, with the
same typed arguments, the same role checks, and approval for every write/pii/money tool.

Risky tools are marked `requires_approval`, so a run that wants one ends with
`DeferredToolRequests`; the workflow asks a person, then resumes the run with the decision and
an `ApprovalGrant` in the deps (the registry refuses the call without one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel
from pydantic_ai import ModelRetry, RunContext, Tool
from pydantic_ai.toolsets import FunctionToolset

from tools.registry import ToolContext, ToolDenied, ToolError, ToolRegistry, ToolSpec


class AgentDeps(BaseModel):
    """Small on purpose: Temporal copies deps into every activity."""

    tool_context: ToolContext


def agent_tool_name(spec: ToolSpec[Any, Any]) -> str:
    # Providers accept [a-zA-Z0-9_-] in function names; registry names use dots.
    return spec.name.replace(".", "_")


def _function(registry: ToolRegistry, spec: ToolSpec[Any, Any]) -> Callable[..., Any]:
    def call(ctx: RunContext[AgentDeps], args: BaseModel) -> BaseModel:
        try:
            return registry.call(spec.name, ctx.deps.tool_context, args)
        except ToolDenied:
            raise  # a refusal ends the run: a model never gets to argue its way around it
        except ToolError as e:
            raise ModelRetry(str(e)) from None  # wrong id or input: the model may correct itself

    call.__name__ = agent_tool_name(spec)
    call.__doc__ = spec.description
    call.__annotations__ = {
        "ctx": RunContext[AgentDeps],
        "args": spec.input_model,
        "return": spec.output_model,
    }
    return call


def registry_toolset(
    registry: ToolRegistry, *, id: str, names: Iterable[str] | None = None
) -> FunctionToolset[AgentDeps]:
    """A toolset of the named registry tools (all when `names` is None). `id` becomes part of
    Temporal activity names: keep it stable."""
    wanted = set(names) if names is not None else None
    specs = [s for s in registry if wanted is None or s.name in wanted]
    if wanted is not None and (unknown := wanted - {s.name for s in specs}):
        raise ValueError(f"no such tools: {', '.join(sorted(unknown))}")
    return FunctionToolset(
        [
            Tool(
                _function(registry, spec),
                takes_ctx=True,
                name=agent_tool_name(spec),
                description=spec.description,
                requires_approval=spec.requires_approval,
            )
            for spec in specs
        ],
        id=id,
    )
