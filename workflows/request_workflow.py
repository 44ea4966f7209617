"""What every request workflow shares: its history notes, audit entries, the search attributes the
inbox queries, and the Updates people send (decide, stand-in, cancel) with their validators.

A subclass keeps its state in `self._state` (with request_id, stage, requested_by, problems and
history) and says which approval chain is waiting (`_chain`), who the request is about
(`_subject`), its kind, whether it can still be cancelled, and how to check an approver's edits.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from pydantic_ai.durable_exec.temporal import PydanticAIWorkflow

    from tools.approvals.rules import ChangeType
    from tools.hr.legacy_targets import LegacyTargets, TargetsQuery
    from tools.registry import ToolContext
    from tools.store.audit import AuditEvent
    from tools.store.models import Role
    from workflows import search_attributes as sa
    from workflows import task_queues
    from workflows.approvals import (
        ApprovalChain,
        Decision,
        DecisionRecord,
        Outcome,
        StandIn,
        run_chain,
    )
    from workflows.legacy_sync.messages import LegacySyncRequest, LegacySyncState
    from workflows.legacy_sync.messages import workflow_id_for as legacy_workflow_id
    from workflows.record_change.messages import CancelOrder, Event, LegacyPush
    from workflows.tool_activities import call_tool

SHORT = timedelta(seconds=30)
# Who may cancel any request (the requester may always cancel their own).
CANCELLERS = frozenset({Role.HR_OPS, Role.ADMIN})


class RequestWorkflow(PydanticAIWorkflow):
    _state: Any
    _cancel: CancelOrder | None

    # -- what a subclass says ----------------------------------------------------------------

    def _kind(self) -> str:
        raise NotImplementedError

    def _subject(self) -> str | None:
        """The employee the request is about (None before an onboarding created the record)."""
        raise NotImplementedError

    def _chain(self) -> ApprovalChain | None:
        """The approval chain waiting for decisions now, if any."""
        raise NotImplementedError

    def _check_edits(self, edits: dict[str, str]) -> str | None:
        raise NotImplementedError

    def _cancellable(self) -> bool:
        raise NotImplementedError

    # -- updates -----------------------------------------------------------------------------

    @workflow.update
    async def decide(self, decision: Decision) -> DecisionRecord:
        chain = self._chain()
        assert chain is not None
        record = chain.record(decision, workflow.now())
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
        st, chain = self._state, self._chain()
        if st is None or chain is None:
            stage = st.stage if st else "checking"
            raise ApplicationError(f"{decision.request_id} is not waiting for approval (stage: {stage})")
        if self._cancel is not None:
            raise ApplicationError(f"{decision.request_id} was cancelled by {self._cancel.by}")
        if refusal := chain.refusal(decision, self._check_edits):
            raise ApplicationError(refusal)

    @workflow.update
    async def add_stand_in(self, stand_in: StandIn) -> list[str]:
        """A delegation made while this request waits: the delegate may decide at once."""
        chain = self._chain()
        assert chain is not None
        added = chain.add_approvers([stand_in.delegate])
        if added:
            self._note(f"{stand_in.delegate.username} stands in for {stand_in.absent}")
            self._publish()
        return [a.username for a in added]

    @add_stand_in.validator
    def _validate_stand_in(self, stand_in: StandIn) -> None:
        chain = self._chain()
        if chain is None or stand_in.absent not in chain.pending_usernames:
            raise ApplicationError(f"{stand_in.absent} has no decision pending here")

    @workflow.update
    async def cancel(self, order: CancelOrder) -> str:
        """Withdraw the request; returns the stage it was in."""
        was = str(self._state.stage.value)
        self._cancel = order
        self._state.cancelled_by = order.by
        self._note(f"cancelled by {order.by}: {order.reason}")
        self._publish()
        await self._audit("request.cancelled", order.by, {"stage": was}, key="cancel")
        return was

    @cancel.validator
    def _validate_cancel(self, order: CancelOrder) -> None:
        st = self._state
        if st is None or order.request_id != st.request_id:
            raise ApplicationError(
                f"this workflow handles {st.request_id if st else '?'}, not {order.request_id}"
            )
        if self._cancel is not None:
            raise ApplicationError(f"{st.request_id} was already cancelled by {self._cancel.by}")
        if not self._cancellable():
            hint = f"; undo it with `hrops undo {st.request_id}`" if st.stage == "completed" else ""
            raise ApplicationError(
                f"{st.request_id} is {st.stage.value} and can no longer be cancelled{hint}"
            )
        if order.by != st.requested_by and not (order.roles & CANCELLERS):
            raise ApplicationError(
                f"only the requester ({st.requested_by}) or HR ops may cancel {st.request_id}"
            )
        if not order.reason.strip():
            raise ApplicationError('a cancellation needs a reason (--reason "...")')

    def _legacy_started(self) -> None:
        """Called before legacy pushes start (a stage to show, say)."""

    # -- steps every request may take --------------------------------------------------------

    async def _decide_chain(self, chain: ApprovalChain, ctx: ToolContext, subject: str) -> Outcome:
        """Wait for the chain's decisions (or a cancellation) and audit each decision."""
        outcome = await run_chain(
            chain, subject=subject, ctx=ctx, changed=self._changed, withdrawn=lambda: self._cancel is not None
        )
        for decision in chain.decisions:
            # Reasons and edited values are free text and may be personal: they stay in the
            # workflow; the audit log gets who decided, which step, and which fields were edited.
            await self._audit(
                f"request.{decision.verdict.past.replace(' ', '_')}",
                decision.approver,
                {
                    "step": decision.step,
                    "rule": chain.rule,
                    # The tool call it allowed carries the same time (its grant's approved_at).
                    "decided_at": decision.decided_at.isoformat(),
                    "on_behalf_of": decision.on_behalf_of,
                    "reason_given": bool(decision.reason),
                    "edited_fields": sorted(decision.edits),
                },
                key=f"{chain.rule}/{decision.step}",
            )
        return outcome

    async def _push_legacy(self, ctx: ToolContext, kind: ChangeType, employee_id: str) -> None:
        """Push to every legacy form that follows this kind of request, each as a child workflow
        that outlives this one if it must (a person may need to fix the legacy side)."""
        st = self._state
        found = await call_tool(
            "legacy.targets_for_change",
            ctx,
            TargetsQuery(change=kind, employee_id=employee_id),
            LegacyTargets,
        )
        for reason in found.skipped:
            self._note(f"legacy not synced: {reason}")
        if not found.targets:
            return
        self._legacy_started()
        pushes = []
        for t in found.targets:
            # A create has one push per record (two racing creates could both enter it); an
            # update one per request and form, as it may run beside another.
            base = legacy_workflow_id(t.system, t.form, employee_id)
            push = LegacyPush(
                system=t.system,
                form=t.form,
                workflow_id=base if t.action == "create" else f"{base}-{st.request_id}",
            )
            st.legacy.append(push)
            pushes.append(push)
            self._note(f"pushing to {t.system} {t.form} ({push.workflow_id})")
        await asyncio.gather(*(self._push_one(ctx, p, employee_id) for p in pushes))

    async def _push_one(self, ctx: ToolContext, push: LegacyPush, employee_id: str) -> None:
        st = self._state
        try:
            result: LegacySyncState = await workflow.execute_child_workflow(
                "LegacySyncWorkflow",
                LegacySyncRequest(
                    system=push.system,
                    form=push.form,
                    employee_id=employee_id,
                    requested_by=st.requested_by,
                    request_id=st.request_id,
                ),
                id=push.workflow_id,
                task_queue=task_queues.MAIN,
                result_type=LegacySyncState,
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
            push.stage = result.stage.value
        except ChildWorkflowError as e:
            if push.stage is not None:  # stopped on purpose (an offer withdrawn)
                return
            push.stage = "failed"
            st.problems.append(f"{push.system} {push.form}: {e.cause or e}")
        except WorkflowAlreadyStartedError:
            push.stage = "already running"
        self._note(f"{push.system} {push.form}: {push.stage}")
        if push.stage != "completed":
            st.problems.append(
                f"{push.system} {push.form} not done ({push.stage}); the HR record is changed: "
                f"see `hrops legacy show {push.workflow_id}`"
            )

    # -- helpers -----------------------------------------------------------------------------

    def _changed(self, text: str) -> None:
        self._note(text)
        self._publish()

    def _note(self, text: str) -> None:
        self._state.history.append(Event(at=workflow.now(), text=text))

    def _publish(self) -> None:
        """Keep the search attributes the inbox and lookups query in step with the state."""
        st = self._state
        chain = self._chain() if self._cancel is None and not st.stage.closed else None
        pending = chain.pending_usernames if chain else []
        workflow.logger.info(
            "request stage",
            extra={"request_id": st.request_id, "stage": st.stage.value, "employee_id": self._subject()},
        )
        workflow.upsert_search_attributes(
            [
                sa.REQUEST_ID.value_set(st.request_id),
                sa.REQUEST_KIND.value_set(self._kind()),
                sa.EMPLOYEE.value_set(self._subject() or ""),
                sa.STAGE.value_set(st.stage.value),
                sa.PENDING_APPROVER.value_set(pending),
            ]
        )

    async def _audit(self, action: str, actor: str, details: dict, key: str = "") -> None:
        st = self._state
        info = workflow.info()
        await workflow.execute_activity(
            "audit.record",
            AuditEvent(
                actor=actor,
                action=action,
                entity_type="employee",
                entity_id=self._subject(),
                request_id=st.request_id,
                workflow_id=info.workflow_id,
                details=details,
                event_key=f"{info.workflow_id}/{info.run_id}/{action}{'/' + key if key else ''}",
            ),
            result_type=int,
            start_to_close_timeout=SHORT,
        )

    async def _finish(self, stage: Any, problems: list[str] | None = None) -> Any:
        """Close with `stage`; failures are audited; in-flight Updates finish first."""
        st = self._state
        if stage.value in ("invalid", "failed", "expired"):
            await self._audit(f"request.{stage.value}", "system", {"problems": len(problems or [])})
        st.stage = stage
        st.problems = [*st.problems, *(problems or [])]
        self._note(stage.value + (": " + "; ".join(problems) if problems else ""))
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return st
