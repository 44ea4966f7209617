"""Typed messages of the record-change workflow: its input, its state (the Query), stages, orders."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from agents.summary_models import ApprovalSummary
    from tools.approvals.rules import ChangeType
    from tools.hr.changes import ChangeApplied, ChangeCheck, RecordChange
    from tools.hr.schemas import EmployeeProfile
    from tools.store.models import Role
    from workflows.approvals import ApprovalChain

# The workflow type's name: clients start it by name, without loading the workflow and its agents.
WORKFLOW = "RecordChangeWorkflow"

# Changes that write the same record wait for each other: one pending change per employee and group.
GROUP = {
    ChangeType.ADDRESS_CHANGE: "address",
    ChangeType.JOB_TITLE: "job",
    ChangeType.TRANSFER: "job",
    ChangeType.MANAGER_CHANGE: "job",
    ChangeType.SALARY_CHANGE: "pay",
    ChangeType.TERMINATION: "employment",
}


def workflow_id_for(employee_id: str, kind: ChangeType) -> str:
    """Deterministic: a repeated request finds the pending one; a different change of the same
    record while one is pending is refused rather than racing it."""
    return f"record-change-{employee_id.upper()}-{GROUP[kind]}"


class Stage(StrEnum):
    CHECKING = "checking"
    AWAITING_APPROVAL = "awaiting_approval"
    SCHEDULED = "scheduled"  # approved; waits for the effective date
    APPLYING = "applying"
    SYNCING = "syncing"  # applied; the legacy systems are being updated
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    INVALID = "invalid"
    FAILED = "failed"
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

    @property
    def cancellable(self) -> bool:
        return self in {Stage.CHECKING, Stage.AWAITING_APPROVAL, Stage.SCHEDULED}


class ChangeRequest(BaseModel):
    request_id: str
    change: RecordChange
    requested_by: str
    requester_roles: frozenset[Role]


class CancelOrder(BaseModel):
    request_id: str
    by: str
    roles: frozenset[Role] = frozenset()
    reason: str


class Event(BaseModel):
    at: datetime
    text: str


class LegacyPush(BaseModel):
    system: str
    form: str
    workflow_id: str
    stage: str | None = None


class RequestState(BaseModel):
    request_id: str
    kind: ChangeType
    employee_id: str
    stage: Stage
    requested_by: str
    requested_at: datetime
    effective_on: date
    change: RecordChange = Field(description="What was asked for")
    undoes: str | None = None
    employee: EmployeeProfile | None = None
    check: ChangeCheck | None = Field(None, description="The diff preview the approvers saw")
    summary: ApprovalSummary | None = None
    approval: ApprovalChain | None = None
    corrected: RecordChange | None = None  # the approvers' correction of the change
    scheduled_for: datetime | None = None
    applied: ChangeApplied | None = None
    legacy: list[LegacyPush] = []
    cancelled_by: str | None = None
    problems: list[str] = []
    history: list[Event] = []

    @property
    def final_change(self) -> RecordChange:
        return self.corrected or self.change
