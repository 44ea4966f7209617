"""RecordChangeWorkflow: one employee record change (address, job title, transfer, manager,
salary, termination) from request to applied record.

check (diff preview) -> approval chain from the rules -> durable timer until the effective date ->
apply as an effective-dated record with its audit entry (one transaction, once) -> push the
affected legacy forms as child workflows -> notify. It can be cancelled until it applies; an
applied change is undone by a new request for the compensating change (`hrops undo`).

Deterministic orchestration only: every read and write is a tool activity, the summary is an
agent run whose model call is an activity, times come from `workflow.now()`.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from agents.change_summary import ChangeFacts, facts_prompt, summary_agent
    from tools.hr.approvers import ApprovalPlan, change_plan_query
    from tools.hr.changes import EDITABLE, ChangeApplied, ChangeCheck, RecordChange
    from tools.notify.outbox import Message, Queued
    from tools.registry import ToolContext
    from workflows.approvals import ApprovalChain, Outcome
    from workflows.record_change.messages import WORKFLOW, CancelOrder, ChangeRequest, RequestState, Stage
    from workflows.request_workflow import SHORT, RequestWorkflow
    from workflows.tool_activities import call_tool, refusal_of


@workflow.defn(name=WORKFLOW)
class RecordChangeWorkflow(RequestWorkflow):
    __pydantic_ai_agents__ = [summary_agent]

    def __init__(self) -> None:
        self._state: RequestState | None = None
        self._cancel: CancelOrder | None = None

    # -- run ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, req: ChangeRequest) -> RequestState:
        change = req.change
        st = self._state = RequestState(
            request_id=req.request_id,
            kind=change.kind,
            employee_id=change.employee_id,
            stage=Stage.CHECKING,
            requested_by=req.requested_by,
            requested_at=workflow.now(),
            effective_on=change.effective_on,
            change=change,
            undoes=change.undoes,
        )
        ctx = ToolContext(
            actor=req.requested_by,
            roles=req.requester_roles,
            request_id=req.request_id,
            workflow_id=workflow.info().workflow_id,
        )
        self._note(
            f"requested by {req.requested_by}" + (f" to undo {change.undoes}" if change.undoes else "")
        )
        await self._audit(
            "request.submitted", req.requested_by, {"kind": change.kind.value, "undoes": change.undoes}
        )
        self._publish()

        try:
            check, plan = await self._check_and_plan(ctx, change)
        except ActivityError as e:  # refused by a tool: the request cannot proceed, say why
            return await self._close(Stage.INVALID, problems=[refusal_of(e)])
        if plan is None:
            return await self._close(Stage.INVALID, problems=check.problems)
        st.summary = (await summary_agent.run(facts_prompt(self._facts(change, check, plan)))).output

        outcome = await self._approve(ctx, plan)
        if outcome is not Outcome.APPROVED:
            return await self._close(Stage(outcome.value))  # rejected, expired, cancelled: the same words
        assert st.approval is not None
        if edits := st.approval.edits:
            st.corrected = change = change.with_edits(edits)
            self._note(f"the approvers corrected {', '.join(sorted(edits))}")
            try:  # the correction must be as valid as the request, and may need other approvers
                check, replan = await self._check_and_plan(ctx, change)
            except ActivityError as e:
                return await self._close(Stage.INVALID, problems=[f"the correction: {refusal_of(e)}"])
            if replan is None:
                return await self._close(
                    Stage.INVALID, problems=[f"the correction: {p}" for p in check.problems]
                )
            if replan.rule != plan.rule:
                self._note(f"the correction falls under rule {replan.rule}: its chain decides it too")
                outcome = await self._approve(ctx, replan)
                if outcome is not Outcome.APPROVED:
                    return await self._close(
                        Stage(outcome.value)
                    )  # rejected, expired, cancelled: the same words

        if not await self._until_effective(check):
            return await self._close(Stage.CANCELLED)

        st.stage = Stage.APPLYING
        self._publish()
        grant = st.approval.grant(change)
        try:
            st.applied = await call_tool(
                "employee.apply_change", ctx.model_copy(update={"approval": grant}), change, ChangeApplied
            )
        except ActivityError as e:
            return await self._close(Stage.FAILED, problems=[f"could not apply: {refusal_of(e)}"])
        self._note(
            f"applied as {st.applied.record} from {st.applied.effective_on}"
            + (" (rescinding the undone change on its first day)" if st.applied.rescinded_same_day else "")
        )
        await self._push_legacy(ctx, st.kind, st.employee_id)
        await self._tell_applied(check)
        return await self._close(Stage.COMPLETED)

    async def _check_and_plan(
        self, ctx: ToolContext, change: RecordChange
    ) -> tuple[ChangeCheck, ApprovalPlan | None]:
        st = self._state
        assert st is not None
        check = await call_tool("employee.check_change", ctx, change, ChangeCheck)
        st.check, st.employee = check, check.employee or st.employee
        if not check.ok:
            return check, None
        plan = await call_tool(
            "approvals.plan", ctx, change_plan_query(change, check, st.requested_by), ApprovalPlan
        )
        return check, plan

    async def _approve(self, ctx: ToolContext, plan: ApprovalPlan) -> Outcome:
        st = self._state
        assert st is not None
        st.approval = ApprovalChain.from_plan(
            plan, st.request_id, st.requested_by, editable=list(EDITABLE[st.kind])
        )
        st.stage = Stage.AWAITING_APPROVAL
        self._note(f"approval rule {plan.rule}: {plan.why}")
        outcome = await self._decide_chain(
            st.approval, ctx, f"{st.request_id} {st.kind.value.replace('_', ' ')} for {st.employee_id}"
        )
        return outcome

    async def _until_effective(self, check: ChangeCheck) -> bool:
        """Wait (a durable timer) until the start of the effective day; False when cancelled meanwhile.

        Days count from the store's today at the check, so a pinned clock and the real one agree;
        the day starts at 00:00 UTC."""
        st = self._state
        assert st is not None and check.as_of is not None
        days = (st.final_change.effective_on - check.as_of).days
        if days > 0:
            st.scheduled_for = datetime.combine(workflow.now().date() + timedelta(days=days), time(0), UTC)
            st.stage = Stage.SCHEDULED
            self._note(
                f"approved; applies on {st.final_change.effective_on} (timer until {st.scheduled_for:%Y-%m-%d %H:%M} UTC)"
            )
            self._publish()
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._cancel is not None, timeout=st.scheduled_for - workflow.now()
                )
        return self._cancel is None

    async def _tell_applied(self, check: ChangeCheck) -> None:
        st = self._state
        assert st is not None
        people = list(dict.fromkeys([st.requested_by, *check.notify]))
        await workflow.execute_activity(
            "notify.queue",
            Message(
                recipients=people,
                kind="change_applied",
                request_id=st.request_id,
                subject=f"{st.request_id}: {st.kind.value.replace('_', ' ')} for {st.employee_id} applied",
                body=f"In force from {st.final_change.effective_on}. Details: `hrops requests show {st.request_id}`.",
                key=f"{workflow.info().workflow_id}/{st.request_id}/applied",
            ),
            result_type=Queued,
            start_to_close_timeout=SHORT,
        )

    # -- what the shared request handling needs -----------------------------------------------

    @workflow.query
    def state(self) -> RequestState:
        assert self._state is not None
        return self._state

    def _kind(self) -> str:
        return self._state.kind.value

    def _subject(self) -> str | None:
        return self._state.employee_id

    def _chain(self) -> ApprovalChain | None:
        st = self._state
        return st.approval if st and st.stage is Stage.AWAITING_APPROVAL else None

    def _cancellable(self) -> bool:
        return self._state.stage.cancellable

    def _legacy_started(self) -> None:
        self._state.stage = Stage.SYNCING
        self._publish()

    def _check_edits(self, edits: dict[str, str]) -> str | None:
        try:
            self._state.change.with_edits(edits)
        except ValueError as e:
            return str(e)
        return None

    # -- helpers -----------------------------------------------------------------------------

    def _facts(self, change: RecordChange, check: ChangeCheck, plan: ApprovalPlan) -> ChangeFacts:
        e = check.employee
        return ChangeFacts(
            kind=change.kind.value,
            employee_id=change.employee_id,
            title=e.title if e else None,
            org_unit=e.org_unit_name if e else None,
            changed_fields=[d.field for d in check.diff],
            effective_on=change.effective_on,
            requested_by=self._state.requested_by if self._state else "",
            approvers=[a.username for a in plan.steps[0].approvers] if plan.steps else [],
            rule=plan.why,
        )

    async def _close(self, stage: Stage, problems: list[str] | None = None) -> RequestState:
        return await self._finish(stage, problems)
