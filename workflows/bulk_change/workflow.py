"""BulkChangeWorkflow: one parent for a spreadsheet of record changes, one RecordChangeWorkflow child
per row. Every row was validated before this started; each child runs its own approval chain from
the rules (a row the rules route to approvers waits for them, others go straight on) and the parent
records each row's outcome as its child ends. Live stages of the rows are one visibility query on
the batch's search attribute (`hrops requests show`)."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from workflows import search_attributes as sa
    from workflows import task_queues
    from workflows.bulk_change.messages import BulkRequest, BulkRow, BulkState, Stage
    from workflows.record_change.messages import WORKFLOW as RECORD_CHANGE
    from workflows.record_change.messages import ChangeRequest, Event, RequestState


@workflow.defn
class BulkChangeWorkflow:
    def __init__(self) -> None:
        self._state: BulkState | None = None

    @workflow.run
    async def run(self, req: BulkRequest) -> BulkState:
        st = self._state = BulkState(
            request_id=req.request_id,
            stage=Stage.STARTING,
            source=req.source,
            requested_by=req.requested_by,
            requested_at=workflow.now(),
            rows=[
                BulkRow(
                    row=n,
                    request_id=c.request_id,
                    workflow_id=wid,
                    employee_id=c.change.employee_id,
                    kind=c.change.kind.value,
                )
                for n, c, wid in zip(req.rows, req.children, req.workflow_ids, strict=True)
            ],
        )
        self._note(f"{len(st.rows)} rows from {req.source}, requested by {req.requested_by}")
        self._publish()
        handles = [await self._start(r, c) for r, c in zip(st.rows, req.children, strict=True)]
        st.stage = Stage.RUNNING
        self._publish()
        await asyncio.gather(*(self._outcome(r, h) for r, h in zip(st.rows, handles, strict=True) if h))
        st.stage = Stage.COMPLETED
        self._note("every row ended: " + ", ".join(f"{k} {v}" for k, v in sorted(st.counts().items())))
        self._publish()
        return st

    async def _start(self, row: BulkRow, child: ChangeRequest) -> ChildWorkflowHandle | None:
        st = self._state
        assert st is not None
        try:
            handle = await workflow.start_child_workflow(
                RECORD_CHANGE,
                child,
                id=row.workflow_id,
                task_queue=task_queues.MAIN,
                result_type=RequestState,
                # A row's request lives on its own: cancelling or ending the batch leaves it be.
                parent_close_policy=ParentClosePolicy.ABANDON,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.REQUEST_ID, row.request_id),
                        SearchAttributePair(sa.REQUEST_KIND, row.kind),
                        SearchAttributePair(sa.EMPLOYEE, row.employee_id),
                        SearchAttributePair(sa.BATCH, st.request_id),
                    ]
                ),
            )
        except WorkflowAlreadyStartedError:
            row.stage, row.problems = (
                "conflict",
                [f"another request for this record started first ({row.workflow_id})"],
            )
            self._note(f"row {row.row} {row.request_id}: {row.problems[0]}")
            return None
        return handle

    async def _outcome(self, row: BulkRow, handle: ChildWorkflowHandle) -> None:
        try:
            result = await handle
            row.stage, row.problems = result.stage.value, result.problems
        except ChildWorkflowError as e:
            row.stage, row.problems = "failed", [str(e.cause or e)]
        self._note(f"row {row.row} {row.request_id} ({row.kind} {row.employee_id}): {row.stage}")

    @workflow.query
    def state(self) -> BulkState:
        assert self._state is not None
        return self._state

    def _note(self, text: str) -> None:
        assert self._state is not None
        self._state.history.append(Event(at=workflow.now(), text=text))

    def _publish(self) -> None:
        st = self._state
        assert st is not None
        workflow.upsert_search_attributes(
            [
                sa.REQUEST_ID.value_set(st.request_id),
                sa.REQUEST_KIND.value_set("bulk"),
                sa.STAGE.value_set(st.stage.value),
            ]
        )
