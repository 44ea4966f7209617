"""Typed messages of the onboarding workflow: input, state (the Query), stages, readiness report."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tools.onboarding.schemas import (
        Account,
        Equipment,
        NewHire,
        OnboardingCheck,
        OnboardingPlan,
        PlanInputs,
    )
    from tools.store.models import Role
    from workflows.approvals import ApprovalChain
    from workflows.record_change.messages import Event, LegacyPush

KIND = "onboarding"


def workflow_id_for(hire: NewHire) -> str:
    """Derived from the offer: the same person, start date and department is the same onboarding,
    however often it is requested."""
    key = "|".join(
        [hire.given_name.lower(), hire.family_name.lower(), hire.start_date.isoformat(), hire.org_unit]
    )
    return f"onboarding-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class Stage(StrEnum):
    CHECKING = "checking"
    AWAITING_APPROVAL = "awaiting_approval"  # HR ops check the offer data
    CREATING = "creating"  # employee, job, pay records
    PROVISIONING = "provisioning"  # account, equipment, legacy entry in parallel
    PLANNING = "planning"  # the onboarding agent writes the plan
    AWAITING_PLAN_APPROVAL = "awaiting_plan_approval"  # the manager approves or edits it
    ENROLLING = "enrolling"
    READY = "ready"  # everything done; waiting for day 1
    COMPLETED = "completed"  # day 1 came: readiness reported
    REJECTED = "rejected"
    EXPIRED = "expired"
    INVALID = "invalid"
    FAILED = "failed"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"

    @property
    def closed(self) -> bool:
        return self in {
            Stage.COMPLETED,
            Stage.REJECTED,
            Stage.EXPIRED,
            Stage.INVALID,
            Stage.FAILED,
            Stage.CANCELLED,
        }


# What HR ops may correct in the offer, and the manager in the plan (lists separated by ";").
OFFER_EDITABLE = ("title", "org_unit", "manager_id", "location", "level", "start_date", "amount", "currency")
PLAN_EDITABLE = ("buddy_id", "courses", "goals_30", "goals_60", "goals_90")


def plan_with_edits(plan: OnboardingPlan, edits: dict[str, str]) -> OnboardingPlan:
    """The plan with a manager's edits: lists are written `a; b; c` (raises ValueError)."""
    data = plan.model_dump()
    for k, v in edits.items():
        if k == "buddy_id":
            data[k] = v.strip().upper() or None
        else:
            data[k] = [x.strip() for x in v.split(";") if x.strip()]
    return OnboardingPlan.model_validate(data)


def offer_with_edits(hire: NewHire, edits: dict[str, str]) -> NewHire:
    return NewHire.model_validate({**hire.model_dump(), **edits})


class OnboardingRequest(BaseModel):
    request_id: str
    hire: NewHire
    requested_by: str
    requester_roles: frozenset[Role]


class ItemStatus(StrEnum):
    DONE = "done"
    PENDING = "pending"
    LATE = "late"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNDONE = "undone"  # reversed when the offer was withdrawn


class ReadinessItem(BaseModel):
    item: str
    owner: str
    due: date
    status: ItemStatus
    detail: str = ""


class Readiness(BaseModel):
    """What is done for day 1, what is late and who owns it."""

    request_id: str
    employee_id: str | None
    start_date: date
    as_of: datetime
    items: list[ReadinessItem]

    @property
    def ready(self) -> bool:
        return all(i.status in (ItemStatus.DONE, ItemStatus.SKIPPED) for i in self.items)

    def summary(self) -> str:
        done = sum(i.status in (ItemStatus.DONE, ItemStatus.SKIPPED) for i in self.items)
        late = [
            f"{i.item} ({i.owner})" for i in self.items if i.status in (ItemStatus.LATE, ItemStatus.FAILED)
        ]
        return f"{done}/{len(self.items)} ready" + (f"; late: {', '.join(late)}" if late else "")


class OnboardingState(BaseModel):
    request_id: str
    kind: str = KIND
    stage: Stage
    requested_by: str
    requested_at: datetime
    hire: NewHire = Field(description="The offer as requested")
    corrected: NewHire | None = None  # HR ops' correction of the offer data
    check: OnboardingCheck | None = None
    employee_id: str | None = None
    account: Account | None = None
    equipment: Equipment | None = None
    legacy: list[LegacyPush] = []
    plan_inputs: PlanInputs | None = None
    plan: OnboardingPlan | None = None
    approvals: list[ApprovalChain] = Field([], description="The offer's, then the plan's")
    enrolled: list[str] = []
    welcome_queued: bool = False
    done_steps: list[str] = Field([], description="Steps that left something behind, in order")
    cancelled_by: str | None = None
    cancel_reason: str | None = None
    undone: list[str] = []
    readiness: Readiness | None = None  # the day-1 report, once day 1 came
    problems: list[str] = []
    history: list[Event] = []

    @property
    def offer(self) -> NewHire:
        return self.corrected or self.hire

    @property
    def approval(self) -> ApprovalChain | None:
        return self.approvals[-1] if self.approvals else None
