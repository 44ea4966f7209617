"""What the approval summary writer reads and writes (agents/change_summary.py), without the agent:
the record-change workflow's messages carry a summary, and everything that reads them (the CLI,
the API) should not load the model stack to do so."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class ChangeFacts(BaseModel):
    kind: str
    employee_id: str
    title: str | None = None
    org_unit: str | None = None
    changed_fields: list[str]
    effective_on: date
    requested_by: str
    approvers: list[str]
    rule: str


class ApprovalSummary(BaseModel):
    en: str = Field(description="Two sentences in English for the approver")
    zh: str = Field(description="The same in Simplified Chinese")
