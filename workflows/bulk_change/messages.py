"""Typed messages of the bulk-change workflow: its rows, its state (the Query) and stages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.record_change.messages import ChangeRequest, Event

KIND = "bulk"


class Stage(StrEnum):
    STARTING = "starting"
    RUNNING = "running"  # children wait for approvals, effective dates, legacy pushes
    COMPLETED = "completed"  # every row reached an end (applied, rejected, expired, ...)

    @property
    def closed(self) -> bool:
        return self is Stage.COMPLETED


class BulkRow(BaseModel):
    row: int  # the spreadsheet row number (1 is the header)
    request_id: str
    workflow_id: str
    employee_id: str
    kind: str
    stage: str = "pending"  # the child's final stage once it ended
    problems: list[str] = []


class BulkRequest(BaseModel):
    request_id: str
    source: str  # the file name, for people
    requested_by: str
    rows: list[int]
    children: list[ChangeRequest]
    workflow_ids: list[str]


class BulkState(BaseModel):
    request_id: str
    kind: str = KIND
    stage: Stage
    source: str
    requested_by: str
    requested_at: datetime
    rows: list[BulkRow]
    history: list[Event] = []
    problems: list[str] = []

    @property
    def done(self) -> int:
        return sum(r.stage != "pending" for r in self.rows)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.stage] = out.get(r.stage, 0) + 1
        return out
