"""Typed messages of the legacy-sync workflow: input, state (the Query), human tasks, resolutions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tools.legacy.drift import FieldChange
    from tools.legacy.engine import PushResult
    from tools.store.models import Role

KIND = "legacy_sync"
# Who may resolve a push that needs a person (fix data, approve a mapping, cancel).
RESOLVER_ROLES = frozenset({Role.HR_OPS, Role.ADMIN})


def workflow_id_for(system: str, form: str, employee_id: str) -> str:
    """Deterministic per record, whatever request asks: a second push of the same record finds the
    running one instead of racing it (two racing creates could both find nothing and both enter)."""
    return f"legacy-{system}-{form}-{employee_id.upper()}"


class Stage(StrEnum):
    PUSHING = "pushing"
    NEEDS_ATTENTION = "needs_attention"  # a person fixes the data or the system, then retries or cancels
    MAPPING_REVIEW = "mapping_review"  # a proposed mapping fix waits for approval
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # the workflow itself ended abnormally (terminated, timed out): see its history

    @property
    def closed(self) -> bool:
        return self in {Stage.COMPLETED, Stage.CANCELLED, Stage.EXPIRED, Stage.FAILED}

    @property
    def waiting_for_person(self) -> bool:
        return self in {Stage.NEEDS_ATTENTION, Stage.MAPPING_REVIEW}


class LegacySyncRequest(BaseModel):
    system: str
    form: str
    employee_id: str
    requested_by: str
    request_id: str | None = None  # the HR request this push belongs to, if any
    evidence: bool = True


class Action(StrEnum):
    RETRY = "retry"  # the data or the legacy system was fixed: try again
    CANCEL = "cancel"
    APPROVE_MAPPING = "approve_mapping"  # save the proposed mapping version and try again
    REJECT_MAPPING = "reject_mapping"  # keep the old mapping; the task stays open for a manual fix


class HumanTask(BaseModel):
    task_id: str
    kind: str  # validation, field_not_found, verification, data, record_missing, login_failed, ...
    message: str
    page: str | None = None
    screenshot: str | None = None  # relative to the evidence root
    opened_at: datetime
    actions: list[Action]


class MappingProposalView(BaseModel):
    """What the reviewer sees: the changes, what is still unmatched, the diff."""

    version: int
    changes: list[FieldChange]
    unmatched: list[str]
    diff: str
    yaml: str


class Resolution(BaseModel):
    task_id: str
    action: Action
    by: str
    by_roles: frozenset[Role]
    note: str | None = None


class Event(BaseModel):
    at: datetime
    text: str


class LegacySyncState(BaseModel):
    system: str
    form: str
    employee_id: str
    requested_by: str
    request_id: str | None = None
    stage: Stage
    pushes: int = 0
    result: PushResult | None = None
    task: HumanTask | None = None
    proposal: MappingProposalView | None = None
    resolutions: list[Resolution] = []
    history: list[Event] = []
