"""Approval routing tools: which rule applies to a change and who decides each step; at run time,
who stands in for an absent approver and whom an unanswered step escalates to."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from hrops.clock import today
from hrops.settings import get_settings
from tools.approvals import rules as approval_rules
from tools.approvals.people import NobodyToApprove, delegates, managers_of, people_for
from tools.approvals.rules import ChangeFacts, ChangeType, Step, Timers
from tools.hr.access import store
from tools.hr.schemas import ApproverRef
from tools.registry import ALL_ROLES, Risk, ToolContext, ToolError, tool
from tools.store import queries
from tools.store.models import Employee, JobAssignment


class PlanQuery(BaseModel):
    change: ChangeType
    employee_id: str | None = Field(None, description="None only for an onboarding (no record yet)")
    requested_by: str | None = Field(None, description="Username of the requester: never their own approver")
    level: str | None = Field(None, description="Onboarding: the offered level")
    new_manager_id: str | None = Field(None, description="Transfers and manager changes: the new manager")
    increase_percent: Decimal | None = Field(None, description="Salary changes: the rise in percent")
    outside_pay_band: bool | None = Field(None, description="Salary changes: new pay outside the band")


class PlannedStep(BaseModel):
    step: Step
    approvers: list[ApproverRef]
    how: str = Field(description="How these people were chosen, in words")


class ApprovalPlan(BaseModel):
    rule: str
    why: str
    considered: list[str] = Field(description="Rules for this change that did not apply, and why")
    timers: Timers
    level: str | None = None
    steps: list[PlannedStep]


def plan_for(q: PlanQuery) -> ApprovalPlan:
    """Match the rules and name the people of every step (raises NobodyToApprove)."""
    day = today()
    if q.employee_id is None:
        if q.change is not ChangeType.ONBOARDING or not q.new_manager_id:
            raise ToolError("an approval plan needs the employee (or, for an onboarding, the hiring manager)")
        return _onboarding_plan(q, day)
    with store() as session:
        employee = session.get(Employee, q.employee_id.upper())
        if employee is None:
            raise ToolError(f"no employee {q.employee_id}")
        day = max(day, employee.hire_date)  # a future starter: their team as it will be on day 1
        job = queries.current(session, JobAssignment, employee.id, day)
        facts = ChangeFacts(
            change=q.change,
            level=job.level if job else None,
            increase_percent=q.increase_percent,
            outside_pay_band=q.outside_pay_band,
        )
        matched = approval_rules.match(approval_rules.load(get_settings().approval_rules), facts)
        steps = []
        for step in matched.chain:
            people, how = people_for(
                session,
                step,
                employee_id=employee.id,
                day=day,
                requester=q.requested_by,
                new_manager_id=q.new_manager_id,
            )
            steps.append(PlannedStep(step=step, approvers=people, how=how))
    return ApprovalPlan(
        rule=matched.rule,
        why=matched.why,
        considered=matched.considered,
        timers=matched.timers,
        level=facts.level,
        steps=steps,
    )


# An onboarding's steps, seen from the hiring manager (the hire has no record or account yet).
_FROM_HIRING_MANAGER = {Step.MANAGER: Step.NEW_MANAGER, Step.SKIP_LEVEL: Step.MANAGER}


def _onboarding_plan(q: PlanQuery, day: date) -> ApprovalPlan:
    facts = ChangeFacts(change=q.change, level=q.level)
    matched = approval_rules.match(approval_rules.load(get_settings().approval_rules), facts)
    steps = []
    with store() as session:
        for step in matched.chain:
            people, how = people_for(
                session,
                _FROM_HIRING_MANAGER.get(step, step),
                employee_id=q.new_manager_id,
                day=day,
                requester=q.requested_by,
                new_manager_id=q.new_manager_id,
                subject_may_decide=True,
            )
            steps.append(PlannedStep(step=step, approvers=people, how=how))
    return ApprovalPlan(
        rule=matched.rule,
        why=matched.why,
        considered=matched.considered,
        timers=matched.timers,
        level=q.level,
        steps=steps,
    )


@tool("approvals.plan", risk=Risk.READ, roles=ALL_ROLES)
def plan(ctx: ToolContext, args: PlanQuery) -> ApprovalPlan:
    """The approval rule that applies to a change, why, and who decides each step of its chain."""
    try:
        return plan_for(args)
    except NobodyToApprove as e:
        raise ToolError(str(e)) from None


class StepPeople(BaseModel):
    approvers: list[ApproverRef]
    requested_by: str | None = None


class MorePeople(BaseModel):
    added: list[ApproverRef]


@tool("approvals.delegates", risk=Risk.READ, roles=ALL_ROLES)
def stand_ins(ctx: ToolContext, args: StepPeople) -> MorePeople:
    """Who stands in today for any of these approvers while they are away (see `hrops delegate`)."""
    with store() as session:
        return MorePeople(added=delegates(session, args.approvers, today(), args.requested_by))


@tool("approvals.escalation", risk=Risk.READ, roles=ALL_ROLES)
def escalation(ctx: ToolContext, args: StepPeople) -> MorePeople:
    """The managers of these approvers: added to a step nobody decided in time."""
    with store() as session:
        return MorePeople(added=managers_of(session, args.approvers, today(), args.requested_by))
