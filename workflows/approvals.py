"""Human approval as a reusable piece of workflow state: a chain of steps decided by people.

The chain comes from the approval rules (`tools/approvals/rules.yaml`): each step names the people
who may decide it, any one of them decides, a rejection at any step ends the request.

A decision arrives as a Temporal Update. Its validator (`ApprovalChain.refusal`) runs before
anything is written to history: a stale request id, someone not allowed to decide the current step,
the requester, a person who already decided an earlier step, a second decision, a rejection without
a reason or an edit the change does not allow is refused at once, with a message saying why.
Approving with edits keeps the approver's edits as a correction next to the original request.

`run_chain()` waits for each step inside the workflow: after `remind_after` the approvers get a
reminder, after `escalate_after` their managers join the step, after `close_after` the request
closes as expired. Delegates of absent approvers join each step when it starts, and at once when a
delegation is made while the step waits (`add_stand_in`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tools.approvals.rules import Timers, in_words
    from tools.hr.approvers import ApprovalPlan, MorePeople, StepPeople
    from tools.hr.schemas import ApproverRef
    from tools.notify.outbox import Message, Queued
    from tools.registry import ApprovalGrant, ToolContext
    from workflows.tool_activities import call_tool

NOTIFY_TIMEOUT = timedelta(seconds=30)


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    APPROVE_WITH_EDITS = "approve_with_edits"

    @property
    def past(self) -> str:
        return {"approve": "approved", "reject": "rejected", "approve_with_edits": "approved with edits"}[
            self.value
        ]


class Decision(BaseModel):
    """What an approver sends. `request_id` must name the request the workflow is handling."""

    request_id: str
    approver: str = Field(description="Username of the person deciding")
    verdict: Verdict
    reason: str | None = None
    edits: dict[str, str] = Field({}, description="Approve with edits: field -> corrected value")


class DecisionRecord(Decision):
    decided_at: datetime
    step: str
    on_behalf_of: str | None = None  # the approver a delegate or an escalation stood in for


class StepState(BaseModel):
    step: str
    how: str
    approvers: list[ApproverRef]
    started_at: datetime | None = None
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    decision: DecisionRecord | None = None
    expired: bool = False

    @property
    def waiting(self) -> bool:
        return self.started_at is not None and self.decision is None and not self.expired

    @property
    def usernames(self) -> list[str]:
        return [a.username for a in self.approvers]


class Outcome(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the request was withdrawn while it waited


class ApprovalChain(BaseModel):
    request_id: str
    requested_by: str | None = None
    rule: str
    why: str
    timers: Timers
    steps: list[StepState]
    current: int = 0
    editable: list[str] = Field([], description="Fields an approver may correct when approving")
    auto_approved_at: datetime | None = Field(None, description="Set when the rule's chain has no steps")

    @classmethod
    def from_plan(
        cls, plan: ApprovalPlan, request_id: str, requested_by: str | None, editable: list[str] | None = None
    ) -> ApprovalChain:
        return cls(
            request_id=request_id,
            requested_by=requested_by,
            rule=plan.rule,
            why=plan.why,
            timers=plan.timers,
            steps=[StepState(step=s.step.value, how=s.how, approvers=s.approvers) for s in plan.steps],
            editable=editable or [],
        )

    # -- reading -----------------------------------------------------------------------------

    @property
    def step(self) -> StepState | None:
        return self.steps[self.current] if self.current < len(self.steps) else None

    @property
    def outcome(self) -> Outcome:
        if any(s.decision and s.decision.verdict is Verdict.REJECT for s in self.steps):
            return Outcome.REJECTED
        if any(s.expired for s in self.steps):
            return Outcome.EXPIRED
        if all(s.decision for s in self.steps):
            return Outcome.APPROVED
        return Outcome.PENDING

    @property
    def pending_usernames(self) -> list[str]:
        step = self.step
        return step.usernames if step and step.waiting and self.outcome is Outcome.PENDING else []

    @property
    def decisions(self) -> list[DecisionRecord]:
        return [s.decision for s in self.steps if s.decision]

    @property
    def edits(self) -> dict[str, str]:
        """The corrections approvers made, later steps over earlier ones."""
        merged: dict[str, str] = {}
        for d in self.decisions:
            merged.update(d.edits)
        return merged

    # -- deciding ----------------------------------------------------------------------------

    def refusal(
        self, d: Decision, check_edits: Callable[[dict[str, str]], str | None] | None = None
    ) -> str | None:
        """Why this decision cannot be recorded, or None when it can."""
        if d.request_id != self.request_id:
            return f"this workflow handles {self.request_id}, not {d.request_id}"
        outcome, step = self.outcome, self.step
        if outcome is not Outcome.PENDING or step is None:
            last = self.decisions[-1] if self.decisions else None
            if last is not None and outcome is not Outcome.EXPIRED:
                return (
                    f"{self.request_id} was already {last.verdict.past} by {last.approver} "
                    f"at {last.decided_at:%Y-%m-%d %H:%M} UTC"
                )
            return f"{self.request_id} is {outcome.value}: nothing left to decide"
        if not step.waiting:
            return f"{self.request_id} is not waiting for a decision yet"
        who = ", ".join(step.usernames)
        if d.approver == self.requested_by:
            return f"{d.approver} requested {self.request_id} and cannot approve it; approver: {who}"
        earlier = next(
            (s for s in self.steps[: self.current] if s.decision and s.decision.approver == d.approver), None
        )
        if earlier is not None:
            return f"{d.approver} already decided the {earlier.step} step; the {step.step} step needs someone else: {who}"
        if d.approver not in step.usernames:
            return f"{d.approver} may not decide the {step.step} step of {self.request_id}; approver: {who} ({step.how})"
        if d.verdict is Verdict.REJECT and not (d.reason and d.reason.strip()):
            return 'a rejection needs a reason (--reason "...")'
        if d.verdict is Verdict.APPROVE_WITH_EDITS:
            if not d.edits:
                return "approving with edits needs at least one edit (--edit field=value)"
            if unknown := sorted(set(d.edits) - set(self.editable)):
                return f"{', '.join(unknown)} cannot be edited here (editable: {', '.join(self.editable) or 'nothing'})"
            if check_edits and (problem := check_edits(d.edits)):
                return f"the edit is not valid: {problem}"
        elif d.edits:
            return "edits come with --verdict approve_with_edits"
        return None

    def grant(self, args: BaseModel) -> ApprovalGrant:
        """Proof for the tools that this chain approved exactly `args`: the last decision, or the
        rule itself when it approves without people."""
        last = self.decisions[-1] if self.decisions else None
        at = last.decided_at if last else self.auto_approved_at
        assert at is not None and self.outcome is Outcome.APPROVED
        return ApprovalGrant.for_args(
            args,
            request_id=self.request_id,
            approver=last.approver if last else f"rule:{self.rule}",
            decided_at=at.isoformat(),
        )

    def record(self, d: Decision, at: datetime) -> DecisionRecord:
        step = self.step
        assert step is not None
        ref = next(a for a in step.approvers if a.username == d.approver)
        step.decision = DecisionRecord(
            **d.model_dump(), decided_at=at, step=step.step, on_behalf_of=ref.on_behalf_of
        )
        return step.decision

    def add_approvers(self, refs: list[ApproverRef]) -> list[ApproverRef]:
        """Add people to the waiting step (delegates, escalation); returns those really new."""
        step = self.step
        if step is None or not step.waiting:
            return []
        added = [r for r in refs if r.username not in step.usernames and r.username != self.requested_by]
        step.approvers.extend(added)
        return added


class StandIn(BaseModel):
    """A delegation made while a step waits: `delegate` may now decide for `absent`."""

    absent: str
    delegate: ApproverRef


async def _notify(
    chain: ApprovalChain, kind: str, people: list[str], subject: str, body: str, key: str
) -> None:
    if not people:
        return
    await workflow.execute_activity(
        "notify.queue",
        Message(
            recipients=people, kind=kind, request_id=chain.request_id, subject=subject, body=body, key=key
        ),
        result_type=Queued,
        start_to_close_timeout=NOTIFY_TIMEOUT,
    )


async def _more(name: str, chain: ApprovalChain, ctx: ToolContext) -> list[ApproverRef]:
    step = chain.step
    assert step is not None
    found = await call_tool(
        name, ctx, StepPeople(approvers=step.approvers, requested_by=chain.requested_by), MorePeople
    )
    return chain.add_approvers(found.added)


async def run_chain(
    chain: ApprovalChain,
    *,
    subject: str,
    ctx: ToolContext,
    changed: Callable[[str], Awaitable[None] | None],
    withdrawn: Callable[[], bool] = lambda: False,
) -> Outcome:
    """Wait for every step in turn; remind, escalate and close on the chain's timers.

    `subject` names the request in messages (ids, no personal values); `changed(text)` is called
    after each event, for the workflow's history and search attributes; `withdrawn()` true ends
    the wait (the request was cancelled).
    """
    t = chain.timers
    if not chain.steps:  # the rule approves without people (an auto-approval rule)
        chain.auto_approved_at = workflow.now()
        await _told(changed, f"approved by rule {chain.rule} without people: {chain.why}")
        return Outcome.APPROVED
    while chain.step is not None:
        step = chain.step
        step.started_at = workflow.now()
        key = f"{workflow.info().workflow_id}/{chain.request_id}/{chain.current}"
        if stand_ins := await _more("approvals.delegates", chain, ctx):
            await _told(changed, f"{_names(stand_ins)} stand in for absent approvers")
        await _told(changed, f"waiting for {_names(step.approvers)} ({step.step}: {step.how})")
        await _notify(
            chain,
            "approval_requested",
            step.usernames,
            f"{subject}: waiting for your decision",
            f"Step {chain.current + 1} of {len(chain.steps)} ({step.step}): {chain.why}. "
            f"Decide with `hrops approve {chain.request_id}` or `hrops reject {chain.request_id} --reason ...`.",
            f"{key}/requested",
        )
        for deadline, event in (
            (t.remind_after, "remind"),
            (t.escalate_after, "escalate"),
            (t.close_after, "close"),
        ):
            left = step.started_at + deadline - workflow.now()
            if step.decision is None and left > timedelta(0):
                # A decision in the same task as the timer still counts: checked below.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda s=step: s.decision is not None or withdrawn(), timeout=left
                    )
            if step.decision is not None:
                break
            if withdrawn():
                return Outcome.CANCELLED
            if event == "remind":
                step.reminded_at = workflow.now()
                await _notify(
                    chain,
                    "approval_reminder",
                    step.usernames,
                    f"Reminder: {subject} still waits for you",
                    f"Waiting since {step.started_at:%Y-%m-%d %H:%M} UTC. It goes to your manager too "
                    f"after {in_words(t.escalate_after)}, and closes unanswered after {in_words(t.close_after)}.",
                    f"{key}/reminder",
                )
                await _told(changed, f"reminded {_names(step.approvers)}")
            elif event == "escalate":
                step.escalated_at = workflow.now()
                added = await _more("approvals.escalation", chain, ctx)
                await _notify(
                    chain,
                    "approval_escalated",
                    step.usernames,
                    f"Escalated: {subject}",
                    f"Nobody decided the {step.step} step since {step.started_at:%Y-%m-%d %H:%M} UTC. "
                    f"{'Now also with ' + _names(added) + '. ' if added else ''}"
                    f"It closes unanswered after {in_words(t.close_after)}.",
                    f"{key}/escalated",
                )
                await _told(
                    changed, f"escalated to {_names(added)}" if added else "escalation found nobody above"
                )
            else:
                step.expired = True
                await _told(changed, f"nobody decided the {step.step} step in {in_words(t.close_after)}")
                return Outcome.EXPIRED
        decision = step.decision
        assert decision is not None
        if decision.verdict is Verdict.REJECT:
            return Outcome.REJECTED
        chain.current += 1
    return Outcome.APPROVED


async def _told(changed: Callable[[str], Awaitable[None] | None], text: str) -> None:
    result = changed(text)
    if result is not None:
        await result


def _names(refs: list[ApproverRef]) -> str:
    return ", ".join(r.username + (f" (for {r.on_behalf_of})" if r.on_behalf_of else "") for r in refs)
