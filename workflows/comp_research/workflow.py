"""CompResearchWorkflow: a market benchmark that a compensation analyst approves before it leaves HR.

research (one activity: the langgraph graph match -> gather -> reconcile -> critique -> draft) ->
a comp analyst approves, rejects, or edits the recommended range (edits kept next to the draft) ->
publish: the Excel workbook and the Markdown/HTML report, written by a tool that needs the approval
of exactly this draft and range. Nothing is published before approval.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from tools.approvals.rules import ChangeType
    from tools.hr.approvers import ApprovalPlan, PlanQuery
    from tools.market.draft import Approval, Draft
    from tools.market.tools import PublishArgs, Published, ResearchArgs
    from tools.registry import ToolContext
    from workflows.approvals import ApprovalChain, Outcome
    from workflows.comp_research.messages import (
        KIND,
        RANGE_EDITABLE,
        CompResearchRequest,
        CompResearchState,
        Stage,
        range_with_edits,
    )
    from workflows.request_workflow import RequestWorkflow
    from workflows.tool_activities import call_tool, refusal_of

RESEARCH_TIMEOUT = timedelta(minutes=2)


@workflow.defn
class CompResearchWorkflow(RequestWorkflow):
    def __init__(self) -> None:
        self._state: CompResearchState | None = None
        self._cancel = None

    @workflow.run
    async def run(self, req: CompResearchRequest) -> CompResearchState:
        st = self._state = CompResearchState(
            request_id=req.request_id,
            stage=Stage.RESEARCHING,
            requested_by=req.requested_by,
            requested_at=workflow.now(),
            question=req.question,
        )
        ctx = ToolContext(
            actor=req.requested_by,
            roles=req.requester_roles,
            request_id=req.request_id,
            workflow_id=workflow.info().workflow_id,
        )
        q = req.question
        self._note(
            f"market research for {q.title} ({q.level or 'any level'}, {q.location or 'national'}, {q.currency})"
        )
        await self._audit("request.submitted", req.requested_by, {"kind": KIND})
        self._publish()
        try:
            st.draft = await call_tool(
                "market.research",
                ctx,
                ResearchArgs(question=q, soc_code=req.soc_code),
                Draft,
                timeout=RESEARCH_TIMEOUT,
            )
        except ActivityError as e:
            return await self._finish(Stage.FAILED, [refusal_of(e)])
        self._note(st.draft.summary)
        if st.draft.needs_choice:
            return await self._finish(Stage.NEEDS_CHOICE, [st.draft.summary])
        if st.draft.recommended is None:
            return await self._finish(Stage.NO_DATA, st.draft.critique or [st.draft.summary])
        plan = await call_tool(
            "approvals.plan",
            ctx,
            PlanQuery(change=ChangeType.COMP_RESEARCH, requested_by=req.requested_by),
            ApprovalPlan,
        )
        st.approval = ApprovalChain.from_plan(
            plan, st.request_id, st.requested_by, editable=list(RANGE_EDITABLE)
        )
        st.stage = Stage.AWAITING_APPROVAL
        self._note(f"approval rule {plan.rule}: {plan.why}")
        outcome = await self._decide_chain(st.approval, ctx, f"{st.request_id} market research for {q.title}")
        if outcome is not Outcome.APPROVED:
            stage = {Outcome.REJECTED: Stage.REJECTED, Outcome.EXPIRED: Stage.EXPIRED}.get(
                outcome, Stage.CANCELLED
            )
            return await self._finish(stage)
        drafted = st.draft.recommended
        st.published_range = range_with_edits(drafted, st.approval.edits)
        last = st.approval.decisions[-1]
        args = PublishArgs(
            draft=st.draft,
            approval=Approval(
                request_id=st.request_id,
                approved_by=last.approver,
                approved_at=last.decided_at,
                published=st.published_range,
                drafted=drafted if st.approval.edits else None,
                reason=last.reason,
            ),
        )
        st.stage = Stage.PUBLISHING
        self._publish()
        grant_ctx = ctx.model_copy(update={"approval": st.approval.grant(args)})
        try:
            st.published = await call_tool("market.publish", grant_ctx, args, Published)
        except ActivityError as e:
            return await self._finish(Stage.FAILED, [refusal_of(e)])
        self._note(f"published {st.published.workbook}")
        return await self._finish(Stage.PUBLISHED)

    # -- messages and what the shared request handling needs ---------------------------------

    @workflow.query
    def state(self) -> CompResearchState:
        assert self._state is not None
        return self._state

    def _kind(self) -> str:
        return KIND

    def _subject(self) -> str | None:
        return None  # about a job, not a person

    def _chain(self) -> ApprovalChain | None:
        st = self._state
        return st.approval if st and st.stage is Stage.AWAITING_APPROVAL else None

    def _cancellable(self) -> bool:
        return self._state.stage in (Stage.RESEARCHING, Stage.AWAITING_APPROVAL)

    def _check_edits(self, edits: dict[str, str]) -> str | None:
        st = self._state
        assert st is not None and st.draft is not None and st.draft.recommended is not None
        try:
            range_with_edits(st.draft.recommended, edits)
        except ValueError as e:
            return str(e)
        return None
