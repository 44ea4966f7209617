"""Legacy pushes for the CLI and the API: start, follow, list what needs a person, resolve.

Everything is checked before a workflow starts (the mapping loads, the employee exists, the caller
may push), so a bad request is one clear error and starts nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from hrops.clock import today
from hrops.request_service import QUERY_TIMEOUT, RequestError, principal
from hrops.settings import get_settings
from tools.legacy import catalog
from tools.legacy.mapping import MappingError
from tools.store.db import session_scope
from tools.store.identity import Principal
from tools.store.models import Employee, EmployeeStatus
from workflows import task_queues
from workflows.legacy_sync.messages import (
    KIND,
    RESOLVER_ROLES,
    Action,
    Event,
    LegacySyncRequest,
    LegacySyncState,
    Resolution,
    Stage,
    workflow_id_for,
)
from workflows.legacy_sync.workflow import LegacySyncWorkflow

__all__ = ["RequestError", "principal", "workflow_id_for"]


class Started(BaseModel):
    workflow_id: str
    employee_id: str


def check_target(system: str, form: str) -> None:
    try:
        catalog.form(system, form)
    except (catalog.UnknownSystem, MappingError) as e:
        raise RequestError(str(e)) from None


def _may_push(who: Principal) -> None:
    if not who.has(*RESOLVER_ROLES):
        raise RequestError(f"{who.username} may not push records into legacy systems (needs hr_ops or admin)")


def new_hires(days: int, as_of: date | None = None) -> list[str]:
    """Active employees hired in the last `days` days or starting within the next 60: the newest first."""
    day = as_of or today()
    with session_scope(get_settings().db_url) as s:
        return list(
            s.scalars(
                select(Employee.id)
                .where(
                    Employee.status == EmployeeStatus.ACTIVE,
                    Employee.hire_date >= day - timedelta(days=days),
                    Employee.hire_date <= day + timedelta(days=60),
                )
                .order_by(Employee.hire_date.desc(), Employee.id)
            )
        )


def _known(employee_ids: list[str]) -> None:
    with session_scope(get_settings().db_url) as s:
        found = set(s.scalars(select(Employee.id).where(Employee.id.in_([e.upper() for e in employee_ids]))))
    unknown = [e for e in employee_ids if e.upper() not in found]
    if unknown:
        raise RequestError(f"no employee {', '.join(unknown[:5])} in the HR store (check the id, e.g. E1042)")


async def start(
    client: Client,
    system: str,
    form: str,
    employee_ids: list[str],
    who: Principal,
    *,
    request_id: str | None = None,
    evidence: bool = True,
) -> list[Started]:
    check_target(system, form)
    _may_push(who)
    _known(employee_ids)
    out = []
    for employee_id in employee_ids:
        wid = workflow_id_for(system, form, employee_id)
        # A push of the same record already running is followed, not raced (USE_EXISTING).
        await client.start_workflow(
            LegacySyncWorkflow.run,
            LegacySyncRequest(
                system=system,
                form=form,
                employee_id=employee_id.upper(),
                requested_by=who.username,
                request_id=request_id,
                evidence=evidence,
            ),
            id=wid,
            task_queue=task_queues.MAIN,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        out.append(Started(workflow_id=wid, employee_id=employee_id.upper()))
    return out


async def state(client: Client, workflow_id: str) -> LegacySyncState:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await asyncio.wait_for(
            handle.query(LegacySyncWorkflow.state, result_type=LegacySyncState), QUERY_TIMEOUT
        )
    except RPCError as e:
        raise RequestError(f"no legacy push {workflow_id} ({e.message})") from None
    except TimeoutError:
        raise RequestError(f"{workflow_id} did not answer: is a worker running? (`hrops status`)") from None


async def current(client: Client, workflow_id: str) -> LegacySyncState:
    """The latest run's state; FAILED when that run ended without closing the push itself
    (terminated, timed out, failed): then only Temporal's history says more."""
    handle = client.get_workflow_handle(workflow_id, result_type=LegacySyncState)
    try:
        status = (await handle.describe()).status
    except RPCError as e:
        raise RequestError(f"no legacy push {workflow_id} ({e.message})") from None
    if status == WorkflowExecutionStatus.COMPLETED:
        # Its result is its final state, kept by Temporal: no worker needed to read it.
        return await handle.result()
    if status == WorkflowExecutionStatus.RUNNING:
        return await state(client, workflow_id)
    why = status.name.lower().replace("_", " ") if status else "ended"
    event = Event(at=datetime.now(UTC), text=f"the workflow {why} before the push finished")
    try:
        st = await state(client, workflow_id)
    except RequestError:  # no worker to replay it: what its id says
        system, form, employee = (workflow_id.split("-", 3) + ["?"] * 4)[1:4]
        st = LegacySyncState(
            system=system, form=form, employee_id=employee, requested_by="?", stage=Stage.FAILED
        )
    return st.model_copy(update={"stage": Stage.FAILED, "task": None, "history": [*st.history, event]})


async def settled(
    client: Client, workflow_id: str, *, poll: float = 0.3, timeout: float | None = None
) -> LegacySyncState:
    """Wait until the push finished, waits for a person, or its workflow ended otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout if timeout else None
    while True:
        st = await current(client, workflow_id)
        if st.stage.closed or st.stage.waiting_for_person:
            return st
        if deadline and loop.time() > deadline:
            raise RequestError(f"{workflow_id} is still {st.stage.value} after {timeout:.0f} s")
        await asyncio.sleep(poll)


async def settle_many(
    client: Client,
    workflow_ids: list[str],
    on_settled: Callable[[LegacySyncState], None] = lambda st: None,
    *,
    poll: float = 0.5,
    timeout: float | None = None,
) -> list[LegacySyncState]:
    """Follow many pushes with one visibility query per round (not one query per push), and fetch
    each state once, when it has settled."""
    waiting = set(workflow_ids)
    settled_: dict[str, LegacySyncState] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout if timeout else None
    people = f"('{Stage.NEEDS_ATTENTION.value}', '{Stage.MAPPING_REVIEW.value}')"
    while waiting:
        ids = sorted(waiting)
        for chunk in (ids[i : i + 50] for i in range(0, len(ids), 50)):
            listed = ", ".join(f"'{w}'" for w in chunk)
            query = f"WorkflowId IN ({listed}) AND (ExecutionStatus != 'Running' OR HrStage IN {people})"
            async for w in client.list_workflows(query):
                if w.id in waiting:
                    st = await current(client, w.id)
                    if st.stage.closed or st.stage.waiting_for_person:
                        waiting.discard(w.id)
                        settled_[w.id] = st
                        on_settled(st)
        if waiting:
            if deadline and loop.time() > deadline:
                raise RequestError(f"{len(waiting)} pushes still running after {timeout:.0f} s")
            await asyncio.sleep(poll)
    return [settled_[w] for w in workflow_ids]


class TaskItem(BaseModel):
    workflow_id: str
    employee_id: str
    stage: str


async def tasks(client: Client) -> list[TaskItem]:
    """Pushes waiting for a person: one visibility query."""
    query = (
        f"HrRequestKind = '{KIND}' AND ExecutionStatus = 'Running' "
        f"AND HrStage IN ('{Stage.NEEDS_ATTENTION.value}', '{Stage.MAPPING_REVIEW.value}')"
    )
    out = []
    async for w in client.list_workflows(query):
        attrs = w.typed_search_attributes
        out.append(
            TaskItem(
                workflow_id=w.id,
                employee_id=next((p.value for p in attrs if p.key.name == "HrEmployee"), ""),
                stage=next((p.value for p in attrs if p.key.name == "HrStage"), ""),
            )
        )
    return out


async def resolve(
    client: Client, workflow_id: str, action: Action, who: Principal, note: str | None = None
) -> LegacySyncState:
    if not who.has(*RESOLVER_ROLES):  # before looking: a push's state is not theirs to learn
        raise RequestError(f"{who.username} may not resolve legacy pushes (needs hr_ops or admin)")
    current = await state(client, workflow_id)
    if current.task is None:
        raise RequestError(f"{workflow_id} has no open task (stage: {current.stage.value})")
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(
            LegacySyncWorkflow.resolve,
            Resolution(
                task_id=current.task.task_id, action=action, by=who.username, by_roles=who.roles, note=note
            ),
            result_type=LegacySyncState,
        )
    except WorkflowUpdateFailedError as e:
        raise RequestError(getattr(e.cause, "message", None) or str(e.cause or e)) from None
