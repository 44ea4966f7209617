"""Approval routing tools: which rule applies to a change and who decides each step; at run time,
who stands in for an absent approver and whom an unanswered step escalates to."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from hrops.clock import today
from hrops.settings import get_settings
from tools.approvals import rules as approval_rules
from tools.approvals.people import NobodyToApprove, delegates, managers_of, people_for
from tools.approvals.rules import ChangeFacts, ChangeType, Step, Timers
from tools.hr.access import store
from tools.hr.changes import ChangeCheck, RecordChange
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


def change_plan_query(change: RecordChange, check: ChangeCheck, requested_by: str) -> PlanQuery:
    """What the rules need to route a record change: its kind, the employee, the check's facts."""
    return PlanQuery(
        change=change.kind,
        employee_id=change.employee_id,
        requested_by=requested_by,
        **check.routing.model_dump(),
    )


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
    """Match the rules and name the people of every step (raises NobodyToApprove).

    An onboarding has no employee yet: its steps are seen from the hiring manager (manager -> the
    hiring manager, skip_level -> their manager), who locates the people without being the subject."""
    day = today()
    with store() as session:
        if q.change in ABOUT_NOBODY:
            # about no employee: only steps decided by a role can apply (checked below)
            anchor, level, seen_from = "", q.level, {}
        elif q.employee_id is None:
            if q.change is not ChangeType.ONBOARDING or not q.new_manager_id:
                raise ToolError(
                    "an approval plan needs the employee (or, for an onboarding, the hiring manager)"
                )
            anchor, level, seen_from = q.new_manager_id, q.level, _FROM_HIRING_MANAGER
        else:
            employee = session.get(Employee, q.employee_id.upper())
            if employee is None:
                raise ToolError(f"no employee {q.employee_id}")
            day = max(day, employee.hire_date)  # a future starter: their team as it will be on day 1
            job = queries.current(session, JobAssignment, employee.id, day)
            anchor, level, seen_from = employee.id, job.level if job else None, {}
        facts = ChangeFacts(
            change=q.change,
            level=level,
            increase_percent=q.increase_percent,
            outside_pay_band=q.outside_pay_band,
        )
        matched = approval_rules.match(approval_rules.load(get_settings().approval_rules), facts)
        steps = []
        for step in matched.chain:
            if q.change in ABOUT_NOBODY and step not in ROLE_STEPS:
                raise ToolError(
                    f"rule {matched.rule}: a {q.change.value} is about no employee, so its chain can "
                    f"only name roles ({', '.join(sorted(s.value for s in ROLE_STEPS))}), not {step.value}"
                )
            people, how = people_for(
                session,
                seen_from.get(step, step),
                employee_id=anchor,
                day=day,
                requester=q.requested_by,
                new_manager_id=q.new_manager_id,
                subject_may_decide=q.employee_id is None,
            )
            steps.append(PlannedStep(step=step, approvers=people, how=how))
    return ApprovalPlan(
        rule=matched.rule,
        why=matched.why,
        considered=matched.considered,
        timers=matched.timers,
        level=level,
        steps=steps,
    )


# Changes about no employee (a market benchmark): their chains are decided by roles only.
ABOUT_NOBODY = frozenset({ChangeType.COMP_RESEARCH})
ROLE_STEPS = frozenset({Step.HR_OPS, Step.COMP_ANALYST, Step.ADMIN})

# An onboarding's steps, seen from the hiring manager (the hire has no record or account yet).
_FROM_HIRING_MANAGER = {Step.MANAGER: Step.NEW_MANAGER, Step.SKIP_LEVEL: Step.MANAGER}


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
