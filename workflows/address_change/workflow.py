"""AddressChangeWorkflow: check the request, ask the employee's manager, apply it once, audit it.

Deterministic orchestration only: every read and write is a tool activity, the summary is an
agent run whose model call is an activity, times come from `workflow.now()`.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow

    from agents.change_summary import ChangeFacts, facts_prompt, summary_agent
    from tools.hr.schemas import (
        AddressChange,
        AddressChangeApplied,
        AddressChangeCheck,
        ApproverChain,
        ApproversQuery,
    )
    from tools.registry import ApprovalGrant, ToolContext
    from tools.store.audit import AuditEvent
    from workflows import search_attributes as sa
    from workflows.address_change.messages import (
        KIND,
        AddressChangeRequest,
        Event,
        RequestState,
        Stage,
    )
    from workflows.approvals import ApprovalStep, Decision, DecisionRecord, Verdict
    from workflows.tool_activities import call_tool

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postcode", "country")
AUDIT_TIMEOUT = timedelta(seconds=30)


def _reason(e: ActivityError) -> str:
    cause = e.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or e)


@workflow.defn
class AddressChangeWorkflow(PydanticAIWorkflow):
    __pydantic_ai_agents__ = [summary_agent]

    def __init__(self) -> None:
        self._state: RequestState | None = None

    # -- run ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, req: AddressChangeRequest) -> RequestState:
        st = self._state = RequestState(
            request_id=req.request_id,
            employee_id=req.employee_id,
            stage=Stage.CHECKING,
            requested_by=req.requested_by,
            requested_at=workflow.now(),
            effective_on=req.effective_on,
            proposed=req.address,
        )
        ctx = ToolContext(
            actor=req.requested_by,
            roles=req.requester_roles,
            request_id=req.request_id,
            workflow_id=workflow.info().workflow_id,
        )
        change = AddressChange(
            employee_id=req.employee_id, address=req.address, effective_on=req.effective_on
        )
        self._note(f"requested by {req.requested_by}")
        await self._audit("request.submitted", req.requested_by, {"kind": KIND})
        self._publish()

        try:
            check = await call_tool("employee.check_address_change", ctx, change, AddressChangeCheck)
            st.employee, st.current = check.employee, check.current
            if not check.ok:
                return await self._close(Stage.INVALID, problems=check.problems)
            chain = await call_tool(
                "approvals.approvers_for",
                ctx,
                ApproversQuery(kind=KIND, employee_id=req.employee_id, requested_by=req.requested_by),
                ApproverChain,
            )
        except ActivityError as e:  # refused by a tool: the request cannot proceed, say why
            return await self._close(Stage.INVALID, problems=[_reason(e)])
        st.summary = (await summary_agent.run(facts_prompt(self._facts(req, chain)))).output
        now = workflow.now()
        st.approval = ApprovalStep(
            request_id=req.request_id,
            requested_by=req.requested_by,
            approvers=chain.approvers,
            rule=chain.rule,
            requested_at=now,
            expires_at=now + req.approval_timeout,
        )
        st.stage = Stage.AWAITING_APPROVAL
        self._note(f"waiting for {', '.join(st.approval.usernames)} ({chain.rule})")
        self._publish()

        try:
            await workflow.wait_condition(
                lambda: st.approval.decision is not None, timeout=req.approval_timeout
            )
        except TimeoutError:
            # A decision handled in the same task as the timer still counts: it was acknowledged.
            if st.approval.decision is None:
                st.approval.expired = True
                self._note("no decision before the approval deadline")
                return await self._close(Stage.EXPIRED)

        decision = st.approval.decision
        assert decision is not None
        # The reason is free text and may name people: it stays in the workflow, not the audit log.
        await self._audit(
            f"request.{decision.verdict}d", decision.approver, {"reason_given": bool(decision.reason)}
        )
        if decision.verdict is Verdict.REJECT:
            return await self._close(Stage.REJECTED)

        st.stage = Stage.APPLYING
        self._publish()
        grant = ApprovalGrant.for_args(
            change,
            request_id=req.request_id,
            approver=decision.approver,
            decided_at=decision.decided_at.isoformat(),
        )
        try:
            st.applied = await call_tool(
                "employee.change_address",
                ctx.model_copy(update={"approval": grant}),
                change,
                AddressChangeApplied,
            )
        except ActivityError as e:
            return await self._close(Stage.FAILED, problems=[f"could not apply: {_reason(e)}"])
        self._note(f"applied as address record #{st.applied.record_id} from {st.applied.effective_on}")
        return await self._close(Stage.COMPLETED)

    # -- messages ----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> RequestState:
        assert self._state is not None
        return self._state

    @workflow.update
    async def decide(self, decision: Decision) -> DecisionRecord:
        assert self._state is not None and self._state.approval is not None
        record = self._state.approval.record(decision, workflow.now())
        self._publish()  # the inbox drops this request now, not after the next activity
        self._note(
            f"{decision.verdict}d by {decision.approver}"
            + (f": {decision.reason}" if decision.reason else "")
        )
        return record

    @decide.validator
    def _validate_decision(self, decision: Decision) -> None:
        st = self._state
        if st is None or st.approval is None:
            stage = st.stage if st else Stage.CHECKING
            raise ApplicationError(f"{decision.request_id} is not waiting for approval (stage: {stage})")
        if refusal := st.approval.refusal(decision):
            raise ApplicationError(refusal)

    # -- helpers -----------------------------------------------------------------------------

    def _facts(self, req: AddressChangeRequest, chain: ApproverChain) -> ChangeFacts:
        st = self._state
        assert st is not None
        changed = [f for f in ADDRESS_FIELDS if getattr(st.current, f, None) != getattr(req.address, f)]
        return ChangeFacts(
            kind=KIND,
            employee_id=req.employee_id,
            title=st.employee.title if st.employee else None,
            org_unit=st.employee.org_unit_name if st.employee else None,
            changed_fields=changed,
            effective_on=req.effective_on,
            requested_by=req.requested_by,
            approvers=[a.username for a in chain.approvers],
            rule=chain.rule,
        )

    def _note(self, text: str) -> None:
        assert self._state is not None
        self._state.history.append(Event(at=workflow.now(), text=text))

    def _publish(self) -> None:
        """Keep the search attributes the inbox and lookups query in step with the state."""
        st = self._state
        assert st is not None
        pending = st.approval.usernames if st.approval and st.approval.pending and not st.stage.closed else []
        workflow.logger.info(
            "request stage",
            extra={"request_id": st.request_id, "stage": st.stage.value, "employee_id": st.employee_id},
        )
        workflow.upsert_search_attributes(
            [
                sa.REQUEST_ID.value_set(st.request_id),
                sa.REQUEST_KIND.value_set(KIND),
                sa.EMPLOYEE.value_set(st.employee_id),
                sa.STAGE.value_set(st.stage.value),
                sa.PENDING_APPROVER.value_set(pending),
            ]
        )

    async def _audit(self, action: str, actor: str, details: dict) -> None:
        st = self._state
        assert st is not None
        info = workflow.info()
        await workflow.execute_activity(
            "audit.record",
            AuditEvent(
                actor=actor,
                action=action,
                entity_type="employee",
                entity_id=st.employee_id,
                request_id=st.request_id,
                workflow_id=info.workflow_id,
                details=details,
                event_key=f"{info.workflow_id}/{info.run_id}/{action}",
            ),
            result_type=int,
            start_to_close_timeout=AUDIT_TIMEOUT,
        )

    async def _close(self, stage: Stage, problems: list[str] | None = None) -> RequestState:
        st = self._state
        assert st is not None
        if stage in (Stage.INVALID, Stage.FAILED, Stage.EXPIRED):
            await self._audit(f"request.{stage.value}", "system", {"problems": len(problems or [])})
        st.stage = stage
        st.problems = problems or []
        self._note(stage.value + (": " + "; ".join(st.problems) if st.problems else ""))
        self._publish()
        # Let an in-flight decision update finish before the workflow completes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return st
