"""Starting, deciding and looking up requests. The CLI, the API and the demo all go through here.

The workflow owns a request's state. The store's `requests` table only gives it a short number
(REQ-12) and finds its workflow run; the approval inbox is one visibility query.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from functools import lru_cache

from pydantic import BaseModel
from sqlalchemy import select
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from hrops.clock import now, today
from hrops.settings import Settings, get_settings
from tools.approvals.rules import ChangeType
from tools.hr.approvers import PlanQuery
from tools.hr.schemas import AddressChange, AddressChangeCheck, PostalAddress
from tools.registry import ToolContext, ToolError, registry
from tools.store.db import migrate, session_scope
from tools.store.identity import Principal, UnknownUser, resolve_principal
from tools.store.models import REQUEST_PREFIX, RequestRecord, User
from workflows import search_attributes as sa
from workflows import task_queues
from workflows.address_change.messages import KIND, AddressChangeRequest, RequestState, workflow_id_for
from workflows.address_change.workflow import AddressChangeWorkflow
from workflows.approvals import Decision, DecisionRecord, Verdict

PREFIX = REQUEST_PREFIX
# Queries need a worker; without one they would wait for the RPC deadline.
QUERY_TIMEOUT = 10.0


class RequestError(Exception):
    """A request or decision refused, with a message a person can act on."""


class Submitted(BaseModel):
    request_id: str
    workflow_id: str
    created: bool  # False: an identical pending request already existed
    check: AddressChangeCheck | None = None


class InboxItem(BaseModel):
    request_id: str
    kind: str
    employee_id: str
    stage: str
    started_at: datetime | None
    workflow_id: str


class RequestSummary(BaseModel):
    """What visibility knows without asking the worker (used when the worker is down)."""

    request_id: str
    workflow_id: str
    status: str
    stage: str | None


def parse_request_id(text: str) -> int:
    raw = text.strip().upper().removeprefix(PREFIX)
    if not raw.isdigit():
        raise RequestError(f"{text!r} is not a request id; they look like REQ-12")
    return int(raw)


def principal(who: str, settings: Settings | None = None) -> Principal:
    settings = settings or get_settings()
    _ready(settings.db_url)
    with session_scope(settings.db_url) as session:
        try:
            return resolve_principal(session, who, today())
        except UnknownUser as e:
            if session.scalar(select(User.username).limit(1)) is None:
                raise RequestError(
                    "the HR store has no users yet: run `hrops seed` (demo company) or `hrops import employees ...`"
                ) from None
            raise RequestError(str(e)) from None


@lru_cache(maxsize=4)
def _ready(url: str) -> None:
    """Migrate once per process, so a fresh var/ gives a clear message instead of 'no such table'."""
    migrate(url)


def _ctx(p: Principal) -> ToolContext:
    return ToolContext(actor=p.username, roles=p.roles, actor_employee_id=p.employee_id)


def _record(number: int, settings: Settings) -> RequestRecord:
    with session_scope(settings.db_url) as session:
        row = session.get(RequestRecord, number)
    if row is None:
        raise RequestError(f"no request {PREFIX}{number}")
    return row


def _handle(client: Client, row: RequestRecord) -> WorkflowHandle:
    return client.get_workflow_handle(row.workflow_id, run_id=row.run_id)


async def _running_state(client: Client, workflow_id: str) -> RequestState | None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        desc = await handle.describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if desc.status != WorkflowExecutionStatus.RUNNING:
        return None
    try:
        return await asyncio.wait_for(handle.query(AddressChangeWorkflow.state), timeout=QUERY_TIMEOUT)
    except TimeoutError:
        raise RequestError(
            f"a request for this employee is running ({workflow_id}) but no worker answered; "
            "check `hrops status` (is worker-main running?)"
        ) from None


# -- submit ------------------------------------------------------------------------------------


async def submit_address_change(
    client: Client,
    requester: Principal,
    employee_id: str,
    address: PostalAddress,
    effective_on: date | None = None,
    settings: Settings | None = None,
) -> Submitted:
    """Check the change, then start its workflow once. Repeating the same request returns the
    pending one; a different change while one is pending is refused."""
    settings = settings or get_settings()
    change = AddressChange(
        employee_id=employee_id.upper(), address=address, effective_on=effective_on or today()
    )
    workflow_id = workflow_id_for(change.employee_id)

    pending = await _running_state(client, workflow_id)
    if pending is not None:
        if pending.proposed == change.address and pending.effective_on == change.effective_on:
            return Submitted(request_id=pending.request_id, workflow_id=workflow_id, created=False)
        raise RequestError(
            f"{change.employee_id} already has a pending address change {pending.request_id} "
            f"(stage: {pending.stage}); decide it before requesting another"
        )

    check: AddressChangeCheck = await asyncio.to_thread(
        registry.call, "employee.check_address_change", _ctx(requester), change
    )
    if not check.ok:
        raise RequestError("; ".join(check.problems))
    try:  # every step of the approval chain must have someone before anything starts
        await asyncio.to_thread(
            registry.call,
            "approvals.plan",
            _ctx(requester),
            PlanQuery(
                change=ChangeType.ADDRESS_CHANGE,
                employee_id=change.employee_id,
                requested_by=requester.username,
            ),
        )
    except ToolError as e:
        raise RequestError(str(e)) from None

    number = await asyncio.to_thread(_allocate, settings, change.employee_id, workflow_id, requester.username)
    request_id = f"{PREFIX}{number}"
    handle = await client.start_workflow(
        AddressChangeWorkflow.run,
        AddressChangeRequest(
            request_id=request_id,
            employee_id=change.employee_id,
            address=change.address,
            effective_on=change.effective_on,
            requested_by=requester.username,
            requester_roles=requester.roles,
        ),
        id=workflow_id,
        task_queue=task_queues.MAIN,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.REQUEST_ID, request_id),
                SearchAttributePair(sa.REQUEST_KIND, KIND),
                SearchAttributePair(sa.EMPLOYEE, change.employee_id),
            ]
        ),
    )
    # A concurrent identical submission may have won the start: the run's own id decides.
    desc = await handle.describe()
    winner = desc.typed_search_attributes.get(sa.REQUEST_ID)
    await asyncio.to_thread(_settle, settings, number, desc.run_id if winner == request_id else None)
    if winner != request_id:
        # Someone else's request started first: the same change is theirs; a different one is refused.
        theirs = await _running_state(client, workflow_id)
        if theirs is not None and (theirs.proposed, theirs.effective_on) != (
            change.address,
            change.effective_on,
        ):
            raise RequestError(
                f"{change.employee_id} already has a pending address change {theirs.request_id} "
                "(submitted at the same moment, with a different address); decide it before requesting another"
            )
        return Submitted(request_id=winner or "?", workflow_id=workflow_id, created=False)
    return Submitted(request_id=request_id, workflow_id=workflow_id, created=True, check=check)


def _allocate(settings: Settings, employee_id: str, workflow_id: str, requested_by: str) -> int:
    with session_scope(settings.db_url, write=True) as session:
        row = RequestRecord(
            kind=KIND,
            subject_employee_id=employee_id,
            workflow_id=workflow_id,
            requested_by=requested_by,
            created_at=now(),
        )
        session.add(row)
        session.flush()
        return row.number


def _settle(settings: Settings, number: int, run_id: str | None) -> None:
    """Pin the number to its run, or drop it when another submission's run was used."""
    with session_scope(settings.db_url, write=True) as session:
        row = session.get(RequestRecord, number)
        assert row is not None
        if run_id is None:
            session.delete(row)
        else:
            row.run_id = run_id


# -- decide ------------------------------------------------------------------------------------


async def decide(
    client: Client,
    request_id: str,
    approver: Principal,
    verdict: Verdict,
    reason: str | None = None,
    settings: Settings | None = None,
    edits: dict[str, str] | None = None,
) -> DecisionRecord:
    settings = settings or get_settings()
    number = parse_request_id(request_id)
    row = await asyncio.to_thread(_record, number, settings)
    handle = _handle(client, row)
    decision = Decision(
        request_id=f"{PREFIX}{number}",
        approver=approver.username,
        verdict=verdict,
        reason=reason,
        edits=edits or {},
    )
    try:
        return await asyncio.wait_for(
            handle.execute_update(AddressChangeWorkflow.decide, decision), timeout=QUERY_TIMEOUT
        )
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise RequestError(
            f"no worker answered for {decision.request_id}, so the decision is not confirmed: check `hrops status` "
            f"(is worker-main running?), then `hrops requests show {decision.request_id}` before trying again"
        ) from None
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        raise RequestError(cause.message if isinstance(cause, ApplicationError) else str(cause)) from None
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            state = await show(client, request_id, settings)
            raise RequestError(
                f"{decision.request_id} is closed ({_stage_of(state)}); nothing to decide"
            ) from None
        raise


def _stage_of(state: RequestState | RequestSummary) -> str:
    return str(state.stage or getattr(state, "status", "unknown"))


# -- look up -----------------------------------------------------------------------------------


async def show(
    client: Client, request_id: str, settings: Settings | None = None
) -> RequestState | RequestSummary:
    """The full state from the workflow; a visibility summary when no worker can answer."""
    settings = settings or get_settings()
    number = parse_request_id(request_id)
    row = await asyncio.to_thread(_record, number, settings)
    if row.run_id is None:
        raise RequestError(f"{PREFIX}{number} was never started")
    handle = _handle(client, row)
    try:
        return await asyncio.wait_for(handle.query(AddressChangeWorkflow.state), timeout=QUERY_TIMEOUT)
    except (TimeoutError, WorkflowQueryFailedError, RPCError):
        desc = await handle.describe()
        return RequestSummary(
            request_id=f"{PREFIX}{number}",
            workflow_id=row.workflow_id,
            status=desc.status.name if desc.status else "UNKNOWN",
            stage=desc.typed_search_attributes.get(sa.STAGE),
        )


async def inbox(client: Client, approver: Principal) -> list[InboxItem]:
    """Requests waiting for this person: one visibility query."""
    query = pending_for(approver.username)
    return [_item(w) async for w in client.list_workflows(query)]


async def recent(client: Client, limit: int = 20) -> list[InboxItem]:
    """The latest requests of every kind and stage."""
    items: list[InboxItem] = []
    async for w in client.list_workflows(f"{sa.REQUEST_ID.name} IS NOT NULL", limit=limit):
        items.append(_item(w))
    return items


def _item(w) -> InboxItem:  # noqa: ANN001 - temporalio WorkflowExecution
    attrs = w.typed_search_attributes
    return InboxItem(
        request_id=attrs.get(sa.REQUEST_ID) or "?",
        kind=attrs.get(sa.REQUEST_KIND) or "?",
        employee_id=attrs.get(sa.EMPLOYEE) or "?",
        stage=attrs.get(sa.STAGE) or w.status.name.lower(),
        started_at=w.start_time,
        workflow_id=w.id,
    )


def pending_for(username: str) -> str:
    """Visibility query: running requests whose current step waits for this person."""
    quoted = username.replace("\\", "\\\\").replace("'", "\\'")
    return f"{sa.PENDING_APPROVER.name} = '{quoted}' AND ExecutionStatus = 'Running'"


async def wait_for_stage(
    client: Client, request_id: str, stages: set[str], timeout: float = 30.0, settings: Settings | None = None
) -> RequestState:
    """Poll the workflow until it reaches one of `stages` (demo and tests)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await show(client, request_id, settings)
        if isinstance(state, RequestState) and state.stage in stages:
            return state
        if asyncio.get_running_loop().time() > deadline:
            raise RequestError(
                f"{request_id} did not reach {sorted(stages)} within {timeout:.0f}s (now: {_stage_of(state)})"
            )
        await asyncio.sleep(0.2)


def requests_for(employee_id: str, settings: Settings | None = None) -> list[str]:
    settings = settings or get_settings()
    with session_scope(settings.db_url) as session:
        numbers = session.scalars(
            select(RequestRecord.number).where(RequestRecord.subject_employee_id == employee_id.upper())
        )
        return [f"{PREFIX}{n}" for n in numbers]
