"""LegacySyncWorkflow: push one employee into one legacy form, exactly once, verified.

The push is one activity on the browser queue. Transient faults are retried there and by
Temporal; anything a retry cannot fix pauses the workflow with a human task (the message, the
page, the screenshot). A field no selector finds starts the form mapper: its proposal waits for a
person's approval, is saved as a new mapping version, and the push runs again. It is built to run
as a child of other processes (onboarding and record changes will start it that way); today the
CLI and the API start it.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from tools.legacy.drift import Proposal
    from tools.legacy.engine import PushResult
    from tools.legacy.push import PushRequest
    from tools.store.audit import AuditEvent
    from workflows import search_attributes as sa
    from workflows import task_queues
    from workflows.legacy_sync.activities import SaveMapping, SurveyRequest
    from workflows.legacy_sync.messages import (
        KIND,
        RESOLVER_ROLES,
        Action,
        Event,
        HumanTask,
        LegacySyncRequest,
        LegacySyncState,
        MappingProposalView,
        Resolution,
        Stage,
    )

# Faults the engine could not ride out itself get more tries, further apart: a legacy system that
# is down (each try fails fast) gets about eight minutes before a person is asked to look.
PUSH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=12,
)
PUSH_TIMEOUT = timedelta(minutes=10)
# The push heartbeats every few seconds while it runs (activities.BEAT_SECONDS): silence this long
# means its worker is gone, and another worker takes the push over (search first, so never twice).
HEARTBEAT = timedelta(seconds=20)
# A person gets this long to resolve a task before the push is closed as expired.
TASK_TIMEOUT = timedelta(days=14)
AUDIT_TIMEOUT = timedelta(seconds=30)
# Saving a file and an audit entry: a few quick tries, then a person is told why.
SAVE_RETRY = RetryPolicy(maximum_attempts=3)


def _cause(e: ActivityError) -> tuple[str, str, dict]:
    cause = e.cause
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        return cause.type or "error", cause.message, details
    return "error", str(cause or e), {}


@workflow.defn
class LegacySyncWorkflow:
    def __init__(self) -> None:
        self._state: LegacySyncState | None = None
        self._resolution: Resolution | None = None

    @workflow.run
    async def run(self, req: LegacySyncRequest) -> LegacySyncState:
        st = self._state = LegacySyncState(
            system=req.system,
            form=req.form,
            employee_id=req.employee_id,
            requested_by=req.requested_by,
            request_id=req.request_id,
            stage=Stage.PUSHING,
        )
        info = workflow.info()
        folder = f"{info.workflow_id}-{info.run_id[:8]}"
        self._note(f"push into {req.system}/{req.form} requested by {req.requested_by}")
        self._publish()
        resolved_by: str | None = None  # who let the last retry go ahead (checked again by the push)
        while True:
            st.stage = Stage.PUSHING
            st.pushes += 1
            self._publish()
            try:
                st.result = await workflow.execute_activity(
                    "legacy.push",
                    PushRequest(
                        system=req.system,
                        form=req.form,
                        employee_id=req.employee_id,
                        actor=req.requested_by,
                        request_id=req.request_id,
                        workflow_id=info.workflow_id,
                        evidence_folder=f"{folder}/push-{st.pushes}",
                        evidence=req.evidence,
                        resolved_by=resolved_by,
                    ),
                    result_type=PushResult,
                    task_queue=task_queues.RPA,
                    start_to_close_timeout=PUSH_TIMEOUT,
                    heartbeat_timeout=HEARTBEAT,
                    retry_policy=PUSH_RETRY,
                )
            except ActivityError as e:
                kind, message, details = _cause(e)
                task = HumanTask(
                    task_id=f"T{st.pushes}",
                    kind=kind,
                    message=message,
                    page=details.get("page"),
                    screenshot=details.get("screenshot"),
                    opened_at=workflow.now(),
                    actions=[Action.RETRY, Action.CANCEL],
                )
                st.task, st.proposal = task, None
                self._note(f"needs a person ({kind}): {message}")
                if kind == "field_not_found":
                    await self._propose(req, folder)
                else:
                    st.stage = Stage.NEEDS_ATTENTION
                self._publish()
                while True:
                    resolution = await self._wait_for_person()
                    if resolution is None:
                        return await self._close(Stage.EXPIRED, "nobody resolved the task in time")
                    if resolution.action is Action.CANCEL:
                        return await self._close(Stage.CANCELLED, f"cancelled by {resolution.by}")
                    if resolution.action is Action.RETRY or await self._save_mapping(req, resolution):
                        break
                resolved_by = resolution.by
                continue
            r = st.result
            self._note(
                f"{r.outcome.replace('_', ' ')} as {r.reference}; {len(r.verified)} fields read back equal"
                + (f"; recovered from {r.recovered}" if r.recovered else "")
            )
            return await self._close(Stage.COMPLETED, "completed")

    # -- people ------------------------------------------------------------------------------

    async def _propose(self, req: LegacySyncRequest, folder: str) -> None:
        st = self._state
        assert st is not None and st.task is not None
        try:
            proposal = await workflow.execute_activity(
                "legacy.propose_mapping",
                SurveyRequest(
                    system=req.system,
                    form=req.form,
                    employee_id=req.employee_id,
                    actor=req.requested_by,
                    evidence_folder=f"{folder}/push-{st.pushes}",
                ),
                result_type=Proposal,
                task_queue=task_queues.RPA,
                start_to_close_timeout=PUSH_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=PUSH_RETRY,
            )
        except ActivityError as e:
            _, message, _ = _cause(e)
            st.stage = Stage.NEEDS_ATTENTION
            self._note(f"no mapping proposal: {message}; fix the mapping by hand, then retry")
            return
        st.proposal = MappingProposalView(
            version=proposal.version,
            changes=proposal.changes,
            unmatched=proposal.unmatched,
            diff=proposal.diff,
            yaml=proposal.yaml,
        )
        if proposal.changes:
            st.task.actions = [Action.APPROVE_MAPPING, Action.REJECT_MAPPING, Action.RETRY, Action.CANCEL]
            st.stage = Stage.MAPPING_REVIEW
            self._note(
                f"mapping v{proposal.version} proposed: {len(proposal.changes)} selectors changed"
                + (f", still unmatched: {', '.join(proposal.unmatched)}" if proposal.unmatched else "")
            )
        else:
            st.stage = Stage.NEEDS_ATTENTION
            self._note("the form mapper found no replacement: fix the mapping by hand, then retry")

    async def _wait_for_person(self) -> Resolution | None:
        """The next decision that ends the task (retry, approve, cancel); None when time ran out."""
        self._resolution = None
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._resolution is not None, timeout=TASK_TIMEOUT)
        return self._resolution

    async def _save_mapping(self, req: LegacySyncRequest, resolution: Resolution) -> bool:
        """Save the approved version; if that fails, a task says why and the push waits again."""
        st = self._state
        assert st is not None and st.proposal is not None
        try:
            await workflow.execute_activity(
                "legacy.save_mapping",
                SaveMapping(
                    system=req.system,
                    form=req.form,
                    version=st.proposal.version,
                    yaml=st.proposal.yaml,
                    approved_by=resolution.by,
                    workflow_id=workflow.info().workflow_id,
                ),
                result_type=str,
                task_queue=task_queues.RPA,
                start_to_close_timeout=AUDIT_TIMEOUT,
                retry_policy=SAVE_RETRY,
            )
        except ActivityError as e:
            kind, message, _ = _cause(e)
            # The proposal stays open: someone allowed may approve it, or it is fixed by hand.
            st.task = HumanTask(
                task_id=f"T{st.pushes}-save",
                kind=kind,
                message=f"mapping v{st.proposal.version} was not saved: {message}",
                opened_at=workflow.now(),
                actions=[Action.APPROVE_MAPPING, Action.REJECT_MAPPING, Action.RETRY, Action.CANCEL],
            )
            st.stage = Stage.MAPPING_REVIEW
            self._note(st.task.message)
            self._publish()
            return False
        self._note(f"mapping v{st.proposal.version} approved by {resolution.by} and saved")
        return True

    # -- messages ----------------------------------------------------------------------------

    @workflow.query
    def state(self) -> LegacySyncState:
        assert self._state is not None
        return self._state

    @workflow.update
    async def resolve(self, resolution: Resolution) -> LegacySyncState:
        st = self._state
        assert st is not None
        st.resolutions.append(resolution)
        self._note(
            f"{resolution.action.value.replace('_', ' ')} by {resolution.by}"
            + (f": {resolution.note}" if resolution.note else "")
        )
        # The task is decided here, in the handler, so a second decision in the same moment
        # finds it closed (or narrowed) and is refused by the validator.
        if resolution.action is Action.REJECT_MAPPING:
            assert st.task is not None
            st.task.actions = [Action.RETRY, Action.CANCEL]
            st.stage = Stage.NEEDS_ATTENTION
            self._publish()
            return st
        # Answer callers with where it goes next, not where it stood.
        st.task = None
        st.stage = Stage.CANCELLED if resolution.action is Action.CANCEL else Stage.PUSHING
        self._resolution = resolution
        return st

    @resolve.validator
    def _validate(self, resolution: Resolution) -> None:
        st = self._state
        if st is None or st.task is None or not st.stage.waiting_for_person:
            raise ApplicationError(f"nothing to resolve: the push is {st.stage if st else 'starting'}")
        if resolution.task_id != st.task.task_id:
            raise ApplicationError(
                f"task {resolution.task_id} is not open (the open task is {st.task.task_id})"
            )
        if resolution.action not in st.task.actions:
            allowed = ", ".join(a.value for a in st.task.actions)
            raise ApplicationError(f"{resolution.action.value} is not possible now (possible: {allowed})")
        if not resolution.by_roles & RESOLVER_ROLES:
            raise ApplicationError(f"{resolution.by} may not resolve legacy pushes (needs hr_ops or admin)")

    # -- helpers -----------------------------------------------------------------------------

    def _note(self, text: str) -> None:
        assert self._state is not None
        self._state.history.append(Event(at=workflow.now(), text=text))

    def _publish(self) -> None:
        st = self._state
        assert st is not None
        attrs = [
            sa.REQUEST_KIND.value_set(KIND),
            sa.EMPLOYEE.value_set(st.employee_id),
            sa.STAGE.value_set(st.stage.value),
        ]
        if st.request_id:
            attrs.append(sa.REQUEST_ID.value_set(st.request_id))
        workflow.upsert_search_attributes(attrs)

    async def _close(self, stage: Stage, why: str) -> LegacySyncState:
        st = self._state
        assert st is not None
        st.stage = stage
        self._note(why)
        if stage is not Stage.COMPLETED:
            info = workflow.info()
            await workflow.execute_activity(
                "audit.record",
                AuditEvent(
                    actor="system",
                    action=f"legacy.push_{stage.value}",
                    entity_type="employee",
                    entity_id=st.employee_id,
                    request_id=st.request_id,
                    workflow_id=info.workflow_id,
                    details={"system": st.system, "form": st.form, "pushes": st.pushes},
                    event_key=f"{info.workflow_id}/{info.run_id}/{stage.value}",
                ),
                result_type=int,
                start_to_close_timeout=AUDIT_TIMEOUT,
            )
        self._publish()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return st
