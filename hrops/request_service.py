"""Starting, deciding and looking up requests. The CLI, the API and the demo all go through here.

The workflow owns a request's state. The store's `requests` table only gives it a short number
(REQ-12) and finds its workflow run; the approval inbox is one visibility query.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError
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
from tools.hr.approvers import ApprovalPlan, PlanQuery, change_plan_query
from tools.hr.changes import AddressDetails, ChangeCheck, RecordChange
from tools.hr.record_changes import UndoQuery
from tools.hr.schemas import PostalAddress
from tools.market.tools import RESEARCHERS
from tools.registry import ToolContext, ToolError, registry
from tools.store.db import migrate, session_scope
from tools.store.identity import ALL_SEEING, Principal, UnknownUser, resolve_principal
from tools.store.models import REQUEST_PREFIX, RequestRecord, User
from workflows import search_attributes as sa
from workflows import task_queues
from workflows.approvals import ApprovalChain, Decision, DecisionRecord, Verdict
from workflows.bulk_change.messages import KIND as BULK
from workflows.bulk_change.messages import BulkState
from workflows.comp_research.messages import KIND as COMP_RESEARCH
from workflows.comp_research.messages import CompResearchState
from workflows.onboarding.messages import KIND as ONBOARDING
from workflows.onboarding.messages import OnboardingState
from workflows.record_change.messages import (
    WORKFLOW,
    CancelOrder,
    ChangeRequest,
    RequestState,
    workflow_id_for,
)

PREFIX = REQUEST_PREFIX
AnyState = RequestState | OnboardingState | BulkState | CompResearchState
STATE_TYPES: dict[str, type] = {
    ONBOARDING: OnboardingState,
    BULK: BulkState,
    COMP_RESEARCH: CompResearchState,
}
# Queries need a worker; without one they would wait for the RPC deadline.
QUERY_TIMEOUT = 10.0


class RequestError(Exception):
    """A request or decision refused, with a message a person can act on."""


class NotVisible(RequestError):
    """No such request, or one this person may not see: the same answer for both, so trying
    request ids (or acting on one) tells a stranger nothing about it."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no request {request_id} that you may see")


class Submitted(BaseModel):
    request_id: str
    workflow_id: str
    created: bool  # False: an identical pending request already existed
    check: ChangeCheck | None = None


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
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # '²' is a digit; 10**19 overflows a column
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


def tool_context(p: Principal) -> ToolContext:
    return ToolContext(actor=p.username, roles=p.roles, actor_employee_id=p.employee_id)


def _record(number: int, settings: Settings) -> RequestRecord:
    with session_scope(settings.db_url) as session:
        row = session.get(RequestRecord, number)
    if row is None:
        raise RequestError(f"no request {PREFIX}{number}")
    return row


def _handle(client: Client, row: RequestRecord) -> WorkflowHandle:
    return client.get_workflow_handle(row.workflow_id, run_id=row.run_id)


async def running_request(client: Client, workflow_id: str, state_type: type = RequestState) -> Any:
    """The state of the running request with this workflow id, or None."""
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
        return await asyncio.wait_for(handle.query("state", result_type=state_type), timeout=QUERY_TIMEOUT)
    except TimeoutError:
        raise RequestError(
            f"a request like this is running ({workflow_id}) but no worker answered; "
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
    change = record_change(employee_id, AddressDetails(address=address), effective_on or today())
    return await submit_change(client, requester, change, settings)


def record_change(employee_id: str, details: Any, effective_on: date) -> RecordChange:
    """The change, or a RequestError naming the field that is wrong (an empty employee id, ...)."""
    try:
        return RecordChange(employee_id=employee_id, details=details, effective_on=effective_on)
    except ValidationError as e:
        raise RequestError(
            "; ".join(f"{'.'.join(map(str, x['loc'])) or 'value'}: {x['msg']}" for x in e.errors())
        ) from None


async def submit_change(
    client: Client, requester: Principal, change: RecordChange, settings: Settings | None = None
) -> Submitted:
    """Check the change, then start its workflow once. Repeating the same request returns the
    pending one; a different change of the same record while one is pending is refused."""
    settings = settings or get_settings()
    workflow_id = workflow_id_for(change.employee_id, change.kind)
    what = change.kind.value.replace("_", " ")

    def same(state: RequestState) -> bool:
        return (state.change.details, state.change.effective_on) == (change.details, change.effective_on)

    # Checked before the pending request is looked up: someone who may not ask for this change
    # learns nothing about a pending one.
    try:
        check: ChangeCheck = await asyncio.to_thread(
            registry.call, "employee.check_change", tool_context(requester), change
        )
    except ToolError as e:  # a user with no role at all may not even ask
        raise RequestError(str(e)) from None
    if not check.ok:
        raise RequestError("; ".join(check.problems))
    pending = await running_request(client, workflow_id)
    if pending is not None:
        if same(pending):
            return Submitted(request_id=pending.request_id, workflow_id=workflow_id, created=False)
        raise RequestError(
            f"{change.employee_id} already has a pending {pending.kind.value.replace('_', ' ')} "
            f"{pending.request_id} (stage: {pending.stage}) on the same record; decide or cancel it first"
        )
    await route(requester, change_plan_query(change, check, requester.username))

    request_id, created = await start_once(
        client,
        settings,
        kind=change.kind.value,
        subject=change.employee_id,
        workflow_id=workflow_id,
        requester=requester,
        run=WORKFLOW,
        make_input=lambda rid: ChangeRequest(
            request_id=rid, change=change, requested_by=requester.username, requester_roles=requester.roles
        ),
    )
    if not created:
        # Someone else's request started first: the same change is theirs; a different one is refused.
        theirs = await running_request(client, workflow_id)
        if theirs is not None and not same(theirs):
            raise RequestError(
                f"{change.employee_id} already has a pending {what} {theirs.request_id} "
                "(submitted at the same moment, with other values); decide or cancel it first"
            )
        return Submitted(request_id=request_id, workflow_id=workflow_id, created=False)
    return Submitted(request_id=request_id, workflow_id=workflow_id, created=True, check=check)


async def route(requester: Principal, query: PlanQuery) -> ApprovalPlan:
    """The approval plan; refused when a step of the chain has nobody (before anything starts)."""
    try:
        return await asyncio.to_thread(registry.call, "approvals.plan", tool_context(requester), query)
    except ToolError as e:
        raise RequestError(str(e)) from None


async def start_once(
    client: Client,
    settings: Settings,
    *,
    kind: str,
    subject: str,
    workflow_id: str,
    requester: Principal,
    run: Callable[..., Awaitable[Any]] | str,  # the workflow's run method, or its type's name
    make_input: Callable[[str], BaseModel],
) -> tuple[str, bool]:
    """Number the request and start its workflow unless a run with this id is going already.
    Returns (request id, created): a concurrent submission's run wins and keeps its own number."""
    number = await asyncio.to_thread(_allocate, settings, kind, subject, workflow_id, requester.username)
    request_id = f"{PREFIX}{number}"
    handle = await client.start_workflow(
        run,
        make_input(request_id),
        id=workflow_id,
        task_queue=task_queues.MAIN,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.REQUEST_ID, request_id),
                SearchAttributePair(sa.REQUEST_KIND, kind),
                SearchAttributePair(sa.EMPLOYEE, subject),
            ]
        ),
    )
    desc = await handle.describe()
    winner = desc.typed_search_attributes.get(sa.REQUEST_ID)
    await asyncio.to_thread(_settle, settings, number, desc.run_id if winner == request_id else None)
    return (request_id, True) if winner == request_id else (winner or "?", False)


def allocate_many(settings: Settings, rows: list[tuple[str, str, str]], requested_by: str) -> list[int]:
    """Numbers for requests a batch will start: (kind, employee, workflow id) each, one transaction."""
    with session_scope(settings.db_url, write=True) as session:
        records = [
            RequestRecord(
                kind=k, subject_employee_id=e, workflow_id=w, requested_by=requested_by, created_at=now()
            )
            for k, e, w in rows
        ]
        session.add_all(records)
        session.flush()
        return [r.number for r in records]


def record_of(request_id: str, settings: Settings | None = None) -> RequestRecord:
    """The store's row of a request: its kind, subject and workflow."""
    return _record(parse_request_id(request_id), settings or get_settings())


def _allocate(settings: Settings, kind: str, employee_id: str, workflow_id: str, requested_by: str) -> int:
    with session_scope(settings.db_url, write=True) as session:
        row = RequestRecord(
            kind=kind,
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
    await refuse_unseen(client, request_id, approver, settings)
    row = await asyncio.to_thread(_record, number, settings)
    handle = _handle(client, row)
    decision = Decision(
        request_id=f"{PREFIX}{number}",
        approver=approver.username,
        verdict=verdict,
        reason=reason,
        edits=edits or {},
    )
    return await _update(client, handle, "decide", decision, DecisionRecord, settings)


async def _update(
    client: Client,
    handle: WorkflowHandle,
    verb: str,
    arg: Decision | CancelOrder,
    result: type,
    settings: Settings,
) -> Any:
    """Run an Update (`decide`, `cancel`: every request workflow has them); refusals, a closed
    request and an absent worker become messages a person can act on."""
    request_id = arg.request_id
    try:
        return await asyncio.wait_for(
            handle.execute_update(verb, arg, result_type=result), timeout=QUERY_TIMEOUT
        )
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            state = await show(client, request_id, settings)
            stage = _stage_of(state)
            hint = (
                f"; undo it with `hrops undo {request_id}`"
                if (verb, stage) == ("cancel", "completed")
                else ""
            )
            raise RequestError(f"{request_id} is closed ({stage}); nothing to {verb}{hint}") from None
        raise
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise RequestError(
            f"no worker answered for {request_id}, so this is not confirmed: check `hrops status` "
            f"(is worker-main running?), then `hrops requests show {request_id}` before trying again"
        ) from None
    except WorkflowUpdateFailedError as e:
        cause = e.cause
        raise RequestError(cause.message if isinstance(cause, ApplicationError) else str(cause)) from None


async def cancel(
    client: Client, request_id: str, who: Principal, reason: str, settings: Settings | None = None
) -> str:
    """Withdraw a request that has not been applied yet; returns the stage it was in."""
    settings = settings or get_settings()
    number = parse_request_id(request_id)
    await refuse_unseen(client, request_id, who, settings)
    row = await asyncio.to_thread(_record, number, settings)
    order = CancelOrder(request_id=f"{PREFIX}{number}", by=who.username, roles=who.roles, reason=reason)
    return await _update(client, _handle(client, row), "cancel", order, str, settings)


async def undo(
    client: Client, request_id: str, who: Principal, settings: Settings | None = None
) -> Submitted:
    """Request the compensating change of an applied request; it goes through the same approvals."""
    settings = settings or get_settings()
    number = parse_request_id(request_id)
    row = await asyncio.to_thread(_record, number, settings)
    state = await refuse_unseen(client, request_id, who, settings)
    if isinstance(state, RequestState) and state.stage != "completed":
        raise RequestError(
            f"{PREFIX}{number} is {state.stage}, not applied: "
            + ("cancel it instead (`hrops cancel`)" if not state.stage.closed else "nothing to undo")
        )
    try:
        change = await asyncio.to_thread(
            registry.call,
            "employee.compensating_change",
            tool_context(who),
            UndoQuery(employee_id=row.subject_employee_id, request_id=f"{PREFIX}{number}", kind=row.kind),
        )
    except ToolError as e:
        raise RequestError(str(e)) from None
    return await submit_change(client, who, change, settings)


def _stage_of(state: AnyState | RequestSummary) -> str:
    return str(state.stage or getattr(state, "status", "unknown"))


# -- look up -----------------------------------------------------------------------------------


async def query(
    client: Client, request_id: str, name: str, result_type: type, settings: Settings | None = None
) -> Any:
    """Ask a request's workflow a Query by name (a worker must answer)."""
    settings = settings or get_settings()
    row = await asyncio.to_thread(_record, parse_request_id(request_id), settings)
    try:
        return await asyncio.wait_for(
            _handle(client, row).query(name, result_type=result_type), timeout=QUERY_TIMEOUT
        )
    except (TimeoutError, WorkflowQueryFailedError) as e:
        raise RequestError(
            f"{request_id.upper()} did not answer ({e or 'no worker'}); check `hrops status`"
        ) from None


def approval_chains(state: AnyState) -> list[ApprovalChain]:
    """Every approval chain of a request (an onboarding has two: the offer and the plan)."""
    if isinstance(state, OnboardingState):
        return list(state.approvals)
    chain = getattr(state, "approval", None)
    return [chain] if chain is not None else []


def may_see(who: Principal, state: AnyState) -> bool:
    """Who may follow a request: HR ops and admins, the requester, everyone named in its approval
    chains (decided, waiting, or still to come), the employee it is about; market research also
    the roles that may request it."""
    if who.has(*ALL_SEEING):
        return True
    people = {u for chain in approval_chains(state) for step in chain.steps for u in step.usernames}
    if who.username == state.requested_by or who.username in people:
        return True
    if isinstance(state, CompResearchState):
        return who.has(*RESEARCHERS)
    subject = getattr(state, "employee_id", None)
    return subject is not None and subject == who.employee_id


async def show_to(
    client: Client, request_id: str, who: Principal, settings: Settings | None = None
) -> AnyState | RequestSummary:
    """The request's state if `who` may see it; NotVisible otherwise. When no worker answers, only
    HR ops and admins get the summary (who else may see a request is in the workflow's state)."""
    state = await refuse_unseen(client, request_id, who, settings)
    if isinstance(state, RequestSummary) and not who.has(*ALL_SEEING):
        raise NotVisible(state.request_id)
    return state


async def refuse_unseen(
    client: Client, request_id: str, who: Principal, settings: Settings | None = None
) -> AnyState | RequestSummary:
    """Before acting on a request: NotVisible unless `who` may see it. A request whose worker does
    not answer is let through as its summary (the action then says no worker answered)."""
    label = f"{PREFIX}{parse_request_id(request_id)}"
    try:
        state = await show(client, label, settings)
    except RequestError:
        raise NotVisible(label) from None
    if not isinstance(state, RequestSummary) and not may_see(who, state):
        raise NotVisible(label)
    return state


async def show(
    client: Client, request_id: str, settings: Settings | None = None
) -> AnyState | RequestSummary:
    """The full state from the workflow; a visibility summary when no worker can answer."""
    settings = settings or get_settings()
    number = parse_request_id(request_id)
    row = await asyncio.to_thread(_record, number, settings)
    handle = _handle(client, row)
    state_type = STATE_TYPES.get(row.kind, RequestState)
    try:
        return await asyncio.wait_for(handle.query("state", result_type=state_type), timeout=QUERY_TIMEOUT)
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


async def in_batch(client: Client, batch_request_id: str, since: datetime) -> AsyncIterator[InboxItem]:
    """The requests a bulk request started at `since`: one visibility query on HrBatch. Started
    since then, because a store that was reset (`hrops seed --reset`) numbers requests from REQ-1
    again while Temporal still lists the old batch's rows under the same id."""
    started = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    query = f"{sa.BATCH.name} = '{_quoted(batch_request_id)}' AND StartTime >= '{started}'"
    async for w in client.list_workflows(query):
        yield _item(w)


def pending_for(username: str) -> str:
    """Visibility query: running requests whose current step waits for this person."""
    return f"{sa.PENDING_APPROVER.name} = '{_quoted(username)}' AND ExecutionStatus = 'Running'"


def _quoted(value: str) -> str:
    """A value inside a single-quoted visibility query string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


async def wait_for_stage(
    client: Client, request_id: str, stages: set[str], timeout: float = 30.0, settings: Settings | None = None
) -> Any:
    """Poll the workflow until it reaches one of `stages` (demo and tests)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await show(client, request_id, settings)
        if not isinstance(state, RequestSummary) and state.stage in stages:
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
