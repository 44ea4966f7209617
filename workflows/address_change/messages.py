"""Typed messages of the address-change workflow: its input, its state (the Query) and stages."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from agents.change_summary import ApprovalSummary
    from tools.hr.schemas import AddressChangeApplied, EmployeeProfile, PostalAddress
    from tools.store.models import Role
    from workflows.approvals import ApprovalChain

KIND = "address_change"


def workflow_id_for(employee_id: str) -> str:
    """Deterministic: one address change per employee at a time; a repeated request finds it."""
    return f"address-change-{employee_id.upper()}"


class Stage(StrEnum):
    CHECKING = "checking"
    AWAITING_APPROVAL = "awaiting_approval"
    APPLYING = "applying"
    COMPLETED = "completed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    INVALID = "invalid"
    FAILED = "failed"

    @property
    def closed(self) -> bool:
        return self in {Stage.COMPLETED, Stage.REJECTED, Stage.EXPIRED, Stage.INVALID, Stage.FAILED}


class AddressChangeRequest(BaseModel):
    request_id: str
    employee_id: str
    address: PostalAddress
    effective_on: date
    requested_by: str
    requester_roles: frozenset[Role]


class Event(BaseModel):
    at: datetime
    text: str


class RequestState(BaseModel):
    request_id: str
    kind: str = KIND
    employee_id: str
    stage: Stage
    requested_by: str
    requested_at: datetime
    effective_on: date
    employee: EmployeeProfile | None = None
    current: PostalAddress | None = None
    proposed: PostalAddress
    summary: ApprovalSummary | None = None
    approval: ApprovalChain | None = None
    corrected: PostalAddress | None = None  # the approvers' correction of the proposed address
    applied: AddressChangeApplied | None = None
    problems: list[str] = []
    history: list[Event] = []
