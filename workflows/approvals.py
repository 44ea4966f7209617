"""Human approval as a reusable piece of workflow state.

A decision arrives as a Temporal Update. Its validator (`ApprovalStep.refusal`) runs before
anything is written to history: a stale request id, an approver who is not allowed, a second
decision or a rejection without a reason is refused at once with a message saying why.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tools.hr.schemas import ApproverRef


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Decision(BaseModel):
    """What an approver sends. `request_id` must name the request the workflow is handling."""

    request_id: str
    approver: str = Field(description="Username of the person deciding")
    verdict: Verdict
    reason: str | None = None


class DecisionRecord(Decision):
    decided_at: datetime


class ApprovalStep(BaseModel):
    """One approval: any one of `approvers` decides."""

    request_id: str
    requested_by: str | None = None
    approvers: list[ApproverRef]
    rule: str
    requested_at: datetime
    expires_at: datetime
    decision: DecisionRecord | None = None
    expired: bool = False

    @property
    def pending(self) -> bool:
        return self.decision is None and not self.expired

    @property
    def usernames(self) -> list[str]:
        return [a.username for a in self.approvers]

    def refusal(self, d: Decision) -> str | None:
        """Why this decision cannot be recorded, or None when it can."""
        if d.request_id != self.request_id:
            return f"this workflow handles {self.request_id}, not {d.request_id}"
        if self.decision is not None:
            prior = self.decision
            return f"{self.request_id} was already {prior.verdict}d by {prior.approver} at {prior.decided_at:%Y-%m-%d %H:%M} UTC"
        if self.expired:
            return f"{self.request_id} expired unanswered at {self.expires_at:%Y-%m-%d %H:%M} UTC"
        if d.approver == self.requested_by:
            return f"{d.approver} requested {self.request_id} and cannot approve it; approver: {', '.join(self.usernames)}"
        if d.approver not in self.usernames:
            return f"{d.approver} may not decide {self.request_id}; approver: {', '.join(self.usernames)} ({self.rule})"
        if d.verdict is Verdict.REJECT and not (d.reason and d.reason.strip()):
            return 'a rejection needs a reason (--reason "...")'
        return None

    def record(self, d: Decision, at: datetime) -> DecisionRecord:
        self.decision = DecisionRecord(**d.model_dump(), decided_at=at)
        return self.decision
