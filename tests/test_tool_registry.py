"""The tool registry: the contract every registered tool satisfies, and what the registry enforces."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

import tools.hr  # noqa: F401  (registers the HR tools)
from tools.hr.schemas import AddressChange
from tools.registry import (
    ApprovalGrant,
    ApprovalRequired,
    Risk,
    ToolContext,
    ToolDenied,
    ToolError,
    ToolRegistrationError,
    ToolRegistry,
    registry,
    tool,
)
from tools.store.models import Role
from workflows.tool_activities import tool_activities


def test_contract_every_registered_tool() -> None:
    assert len(registry) >= 6
    for spec in registry:
        assert spec.description.strip(), spec.name
        assert issubclass(spec.input_model, BaseModel) and issubclass(spec.output_model, BaseModel)
        assert spec.input_model.model_json_schema()["type"] == "object"
        assert spec.roles, spec.name
        if spec.risk in (Risk.WRITE, Risk.PII, Risk.MONEY):
            assert spec.requires_approval, f"{spec.name} changes data without approval"


def test_each_tool_becomes_a_typed_activity() -> None:
    from temporalio import activity

    acts = {activity._Definition.must_from_callable(a).name: a for a in tool_activities(registry)}
    assert set(acts) == {f"tool:{s.name}" for s in registry}
    spec = registry.get("employee.change_address")
    hints = acts["tool:employee.change_address"].__annotations__
    assert hints["args"] is spec.input_model and hints["return"] is spec.output_model


def _ctx(**kw) -> ToolContext:
    return ToolContext(**{"actor": "amy.hughes", "roles": frozenset({Role.HR_OPS}), **kw})


def test_roles_and_approval_are_enforced_before_the_tool_runs(company: str) -> None:
    change = {
        "employee_id": "E1003",
        "effective_on": "2026-11-23",
        "address": {"line1": "1 Jinke Road", "city": "Shanghai", "postcode": "201203", "country": "CN"},
    }
    with pytest.raises(ToolDenied, match="may not use employee.change_address"):
        registry.call("employee.change_address", _ctx(roles=frozenset({Role.MANAGER})), change)
    with pytest.raises(ApprovalRequired, match="runs only for an approved request"):
        registry.call("employee.change_address", _ctx(request_id="REQ-1"), change)
    approved = AddressChange.model_validate(change)
    grant = ApprovalGrant.for_args(
        approved, request_id="REQ-2", approver="li.wei", decided_at="2026-11-23T10:00:00Z"
    )
    with pytest.raises(ApprovalRequired):  # a grant for another request does not count
        registry.call("employee.change_address", _ctx(request_id="REQ-1", approval=grant), change)
    with pytest.raises(ToolError, match="bad input for employee.change_address"):
        registry.call(
            "employee.change_address", _ctx(request_id="REQ-2", approval=grant), {"employee_id": "E1003"}
        )
    # The grant covers exactly the approved change: not another employee, not another address.
    for other in (
        {**change, "employee_id": "E1002"},
        {**change, "address": {**change["address"], "line1": "9 Elsewhere"}},
    ):
        with pytest.raises(ApprovalRequired, match="covers other arguments"):
            registry.call("employee.change_address", _ctx(request_id="REQ-2", approval=grant), other)
    done = registry.call("employee.change_address", _ctx(request_id="REQ-2", approval=grant), change)
    # A retry with the id spelt differently is the same change, already applied.
    again = registry.call(
        "employee.change_address",
        _ctx(request_id="REQ-2", approval=grant),
        {**change, "employee_id": "e1003"},
    )
    assert (again.record_id, again.already_applied, done.already_applied) == (done.record_id, True, False)
    # An approved change still needs a requester allowed to make it.
    mine = {**change, "employee_id": "E1002"}
    as_wang = ToolContext(
        actor="wang.fang",
        roles=frozenset({Role.EMPLOYEE}),
        actor_employee_id="E1003",
        request_id="REQ-3",
        approval=ApprovalGrant.for_args(
            AddressChange.model_validate(mine),
            request_id="REQ-3",
            approver="chen.jing",
            decided_at="2026-11-23T10:00:00Z",
        ),
    )
    with pytest.raises(ToolDenied, match="only for themselves"):
        registry.call("employee.change_address", as_wang, mine)


def test_risky_tools_refuse_without_a_grant_and_read_tools_cannot_write(company: str) -> None:
    from sqlalchemy.exc import DBAPIError

    from tools.hr.access import store
    from tools.store.models import AuditEntry

    for spec in registry:
        if spec.requires_approval:
            with pytest.raises(ApprovalRequired):
                registry.call(spec.name, _ctx(roles=frozenset(spec.roles), request_id="REQ-1"), {})
    # Read tools get read-only sessions: a write inside one fails instead of landing (SQLite: "a
    # readonly database", Postgres: "a read-only transaction").
    with pytest.raises(DBAPIError, match="readonly|read-only"), store() as session:
        session.add(AuditEntry(actor="x", action="x", details={}, prev_hash="0", hash="1"))
        session.flush()


def test_read_tools_show_only_what_the_caller_may_see(company: str) -> None:
    as_wang = ToolContext(actor="wang.fang", roles=frozenset({Role.EMPLOYEE}), actor_employee_id="E1003")
    as_li = ToolContext(
        actor="li.wei", roles=frozenset({Role.EMPLOYEE, Role.MANAGER}), actor_employee_id="E1002"
    )
    assert registry.call("employee.address", as_wang, {"employee_id": "E1003"}).address.city == "Shanghai"
    assert registry.call("employee.address", as_li, {"employee_id": "E1003"}).address is not None
    with pytest.raises(ToolError, match="no employee E1002 that wang.fang may see"):
        registry.call("employee.address", as_wang, {"employee_id": "E1002"})
    found = registry.call("employee.find", as_li, {"text": "wang"})
    assert [m.employee_id for m in found.matches] == ["E1003"]
    assert registry.call("employee.find", as_wang, {"text": "li"}).matches == []
    profile = registry.call("employee.profile", _ctx(), {"employee_id": "e1003"})
    assert (profile.title, profile.manager_id, profile.org_unit_code) == (
        "Data Engineer",
        "E1002",
        "ENG-PLAT",
    )


class In(BaseModel):
    x: int


class Out(BaseModel):
    y: int


def test_registration_fails_fast_with_a_clear_message() -> None:
    local = ToolRegistry()

    def undocumented(ctx: ToolContext, args: In) -> Out:
        return Out(y=args.x)

    with pytest.raises(ToolRegistrationError, match="needs a docstring"):
        tool("demo.undocumented", risk=Risk.READ, roles={Role.ADMIN}, target=local)(undocumented)
    with pytest.raises(ToolRegistrationError, match="must look like 'area.action'"):
        tool("Bad Name", risk=Risk.READ, roles={Role.ADMIN}, target=local)(undocumented)

    def untyped(ctx: ToolContext, args: dict) -> Out:
        """Doc."""
        return Out(y=1)

    with pytest.raises(ToolRegistrationError, match="input type must be a pydantic model"):
        tool("demo.untyped", risk=Risk.READ, roles={Role.ADMIN}, target=local)(untyped)

    def fine(ctx: ToolContext, args: In) -> Out:
        """Doubles x."""
        return Out(y=args.x * 2)

    with pytest.raises(ToolRegistrationError, match="name the roles"):
        tool("demo.fine", risk=Risk.READ, roles=set(), target=local)(fine)
    tool("demo.fine", risk=Risk.READ, roles={Role.ADMIN}, target=local)(fine)
    with pytest.raises(ToolRegistrationError, match="registered twice"):
        tool("demo.fine", risk=Risk.READ, roles={Role.ADMIN}, target=local)(fine)
    assert local.call("demo.fine", ToolContext(actor="a", roles=frozenset({Role.ADMIN})), {"x": 2}).y == 4


def test_nobody_approves_their_own_request(company: str) -> None:
    from datetime import UTC, datetime

    from tools.approvals.rules import Timers
    from workflows.approvals import ApprovalChain, Decision, StepState, Verdict

    def plan(employee: str, requested_by: str | None = None):  # noqa: ANN202
        args = {"change": "address_change", "employee_id": employee, "requested_by": requested_by}
        return registry.call("approvals.plan", _ctx(), args)

    usual = plan("E1003")
    assert [a.username for a in usual.steps[0].approvers] == ["li.wei"]
    assert usual.rule == "address_change" and usual.steps[0].how == "the employee's manager"
    skip = plan("E1003", "li.wei")
    assert [a.username for a in skip.steps[0].approvers] == ["chen.jing"] and skip.steps[0].how.startswith(
        "the manager's manager"
    )
    ceo = plan("E1001")
    assert [a.username for a in ceo.steps[0].approvers] == ["amy.hughes"] and "HR ops" in ceo.steps[0].how

    now = datetime(2026, 11, 23, tzinfo=UTC)
    step = ApprovalChain(
        request_id="REQ-1",
        requested_by="amy.hughes",
        rule=ceo.rule,
        why=ceo.why,
        timers=Timers(),
        steps=[
            StepState(step="manager", how=ceo.steps[0].how, approvers=ceo.steps[0].approvers, started_at=now)
        ],
    )
    refusal = step.refusal(Decision(request_id="REQ-1", approver="amy.hughes", verdict=Verdict.APPROVE))
    assert refusal and "requested REQ-1 and cannot approve it" in refusal
