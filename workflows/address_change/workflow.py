"""AddressChangeWorkflow: check the request, ask its approvers (the rules' chain), apply it once,
audit it.

Deterministic orchestration only: every read and write is a tool activity, the summary is an
agent run whose model call is an activity, times come from `workflow.now()`.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow

    from agents.change_summary import ChangeFacts, facts_prompt, summary_agent
    from tools.approvals.rules import ChangeType
    from tools.hr.approvers import ApprovalPlan, PlanQuery
    from tools.hr.schemas import AddressChange, AddressChangeApplied, AddressChangeCheck, PostalAddress
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
    from workflows.approvals import (
        ApprovalChain,
        Decision,
        DecisionRecord,
        Outcome,
        StandIn,
        Verdict,
        run_chain,
    )
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
            plan = await call_tool(
                "approvals.plan",
                ctx,
                PlanQuery(
                    change=ChangeType.ADDRESS_CHANGE,
                    employee_id=req.employee_id,
                    requested_by=req.requested_by,
                ),
                ApprovalPlan,
            )
        except ActivityError as e:  # refused by a tool: the request cannot proceed, say why
            return await self._close(Stage.INVALID, problems=[_reason(e)])
        st.summary = (await summary_agent.run(facts_prompt(self._facts(req, plan)))).output
        st.approval = ApprovalChain.from_plan(
            plan, req.request_id, req.requested_by, editable=list(ADDRESS_FIELDS)
        )
        st.stage = Stage.AWAITING_APPROVAL
        self._note(f"approval rule {plan.rule}: {plan.why}")
        outcome = await run_chain(
            st.approval,
            subject=f"{req.request_id} address change for {req.employee_id}",
            ctx=ctx,
            changed=self._changed,
        )
        for decision in st.approval.decisions:
            # Reasons and edited values are free text and personal data: they stay in the
            # workflow; the audit log gets who decided, which step, and which fields were edited.
            await self._audit(
                f"request.{decision.verdict.value}d"
                if decision.verdict is not Verdict.APPROVE_WITH_EDITS
                else "request.approved_with_edits",
                decision.approver,
                {
                    "step": decision.step,
                    "on_behalf_of": decision.on_behalf_of,
                    "reason_given": bool(decision.reason),
                    "edited_fields": sorted(decision.edits),
                },
                key=decision.step,
            )
        if outcome is Outcome.EXPIRED:
            return await self._close(Stage.EXPIRED)
        if outcome is Outcome.REJECTED:
            return await self._close(Stage.REJECTED)

        if edits := st.approval.edits:
            st.corrected = PostalAddress(**{**req.address.model_dump(), **edits})
            change = change.model_copy(update={"address": st.corrected})
            self._note(f"applying the approvers' correction of {', '.join(sorted(edits))}")
        decision = st.approval.decisions[-1]
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
            f"{record.step}: {decision.verdict.past} by {decision.approver}"
            + (f" for {record.on_behalf_of}" if record.on_behalf_of else "")
            + (f" (edited {', '.join(sorted(decision.edits))})" if decision.edits else "")
            + (f": {decision.reason}" if decision.reason else "")
        )
        return record

    @decide.validator
    def _validate_decision(self, decision: Decision) -> None:
        st = self._state
        if st is None or st.approval is None:
            stage = st.stage if st else Stage.CHECKING
            raise ApplicationError(f"{decision.request_id} is not waiting for approval (stage: {stage})")
        if refusal := st.approval.refusal(decision, self._check_edits):
            raise ApplicationError(refusal)

    def _check_edits(self, edits: dict[str, str]) -> str | None:
        st = self._state
        assert st is not None
        try:
            PostalAddress(**{**st.proposed.model_dump(), **edits})
        except ValidationError as e:
            return "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        return None

    @workflow.update
    async def add_stand_in(self, stand_in: StandIn) -> list[str]:
        """A delegation made while this request waits: the delegate may decide at once."""
        assert self._state is not None and self._state.approval is not None
        added = self._state.approval.add_approvers([stand_in.delegate])
        if added:
            self._note(f"{stand_in.delegate.username} stands in for {stand_in.absent}")
            self._publish()
        return [a.username for a in added]

    @add_stand_in.validator
    def _validate_stand_in(self, stand_in: StandIn) -> None:
        st = self._state
        if st is None or st.approval is None or stand_in.absent not in st.approval.pending_usernames:
            raise ApplicationError(f"{stand_in.absent} has no decision pending here")

    # -- helpers -----------------------------------------------------------------------------

    def _facts(self, req: AddressChangeRequest, plan: ApprovalPlan) -> ChangeFacts:
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
            approvers=[a.username for a in plan.steps[0].approvers],
            rule=plan.why,
        )

    def _changed(self, text: str) -> None:
        self._note(text)
        self._publish()

    def _note(self, text: str) -> None:
        assert self._state is not None
        self._state.history.append(Event(at=workflow.now(), text=text))

    def _publish(self) -> None:
        """Keep the search attributes the inbox and lookups query in step with the state."""
        st = self._state
        assert st is not None
        pending = st.approval.pending_usernames if st.approval and not st.stage.closed else []
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

    async def _audit(self, action: str, actor: str, details: dict, key: str = "") -> None:
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
                event_key=f"{info.workflow_id}/{info.run_id}/{action}{'/' + key if key else ''}",
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
