"""An agent uses registry tools with the registry's own checks; risky tools wait for a person."""

from __future__ import annotations

import pytest
from pydantic_ai import Agent, DeferredToolRequests, DeferredToolResults
from pydantic_ai.messages import ModelResponse, RetryPromptPart, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from sqlalchemy import select

import tools.hr  # noqa: F401  (registers the HR tools)
from agents.toolsets import AgentDeps, registry_toolset
from tools.hr.schemas import AddressChange
from tools.registry import ApprovalGrant, ApprovalRequired, ToolContext, registry
from tools.store.db import session_scope
from tools.store.models import EmployeeAddress, Role

CHANGE = {
    "employee_id": "E1003",
    "effective_on": "2026-11-23",
    "address": {"line1": "1 Jinke Road", "city": "Shanghai", "postcode": "201203", "country": "CN"},
}


def _script(*calls: tuple[str, dict]):
    """A model that makes the given tool calls in order, then answers with the last tool result."""

    def respond(messages, info: AgentInfo) -> ModelResponse:
        done = sum(
            isinstance(p, ToolReturnPart | RetryPromptPart) for m in messages for p in getattr(m, "parts", [])
        )
        if done < len(calls):
            name, args = calls[done]
            return ModelResponse(parts=[ToolCallPart(name, {"args": args})])
        last = [p for m in messages for p in getattr(m, "parts", []) if isinstance(p, ToolReturnPart)][-1]
        return ModelResponse(parts=[TextPart(str(last.content))])

    return FunctionModel(respond)


def _deps(**kw) -> AgentDeps:
    return AgentDeps(tool_context=ToolContext(actor="amy.hughes", roles=frozenset({Role.HR_OPS}), **kw))


def test_a_wrong_id_goes_back_to_the_model(company: str) -> None:
    toolset = registry_toolset(registry, id="hr")
    agent = Agent(
        _script(
            ("employee_profile", {"employee_id": "E4040"}), ("employee_profile", {"employee_id": "E1003"})
        ),
        deps_type=AgentDeps,
        toolsets=[toolset],
    )
    result = agent.run_sync("who?", deps=_deps())
    assert "Data Engineer" in result.output
    assert "no employee E4040" in str(result.all_messages())


def test_toolset_mirrors_the_registry() -> None:
    toolset = registry_toolset(registry, id="hr")
    assert set(toolset.tools) == {s.name.replace(".", "_") for s in registry}
    risky = {name for name, t in toolset.tools.items() if t.requires_approval}
    assert risky == {s.name.replace(".", "_") for s in registry if s.requires_approval}


def test_read_tool_runs_and_write_tool_waits_for_approval(company: str) -> None:
    toolset = registry_toolset(registry, id="hr")
    reader = Agent(
        _script(("employee_profile", {"employee_id": "E1003"})), deps_type=AgentDeps, toolsets=[toolset]
    )
    assert "Data Engineer" in reader.run_sync("who is E1003?", deps=_deps()).output

    writer = Agent(
        _script(("employee_change_address", CHANGE)),
        deps_type=AgentDeps,
        toolsets=[toolset],
        output_type=[str, DeferredToolRequests],
    )
    first = writer.run_sync("move E1003", deps=_deps(request_id="REQ-5"))
    assert isinstance(first.output, DeferredToolRequests)
    call_id = first.output.approvals[0].tool_call_id
    with session_scope(company) as s:
        assert s.scalar(select(EmployeeAddress).where(EmployeeAddress.request_id == "REQ-5")) is None

    # Approved in the agent's flow but no grant in the deps: the registry still refuses.
    with pytest.raises(ApprovalRequired, match="runs only for an approved request"):
        writer.run_sync(
            message_history=first.all_messages(),
            deps=_deps(request_id="REQ-5"),
            deferred_tool_results=DeferredToolResults(approvals={call_id: True}),
        )

    grant = ApprovalGrant.for_args(
        AddressChange.model_validate(CHANGE),
        request_id="REQ-5",
        approver="li.wei",
        decided_at="2026-11-23T09:00:00Z",
    )
    done = writer.run_sync(
        message_history=first.all_messages(),
        deps=_deps(request_id="REQ-5", approval=grant),
        deferred_tool_results=DeferredToolResults(approvals={call_id: True}),
    )
    assert "record_id" in done.output
    with session_scope(company) as s:
        assert (
            s.scalar(select(EmployeeAddress.line1).where(EmployeeAddress.request_id == "REQ-5"))
            == "1 Jinke Road"
        )
