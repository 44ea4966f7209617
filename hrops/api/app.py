"""The HTTP API: health, the tool catalogue, requests and approvals for the signed-in user.

Every `/api` route needs a bearer token (`hrops token create USER`). What a caller may see is
decided here in code: a request is visible to its requester, its approvers, its subject and
HR ops / admin; anyone else gets 404, the same as for a request that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import text
from temporalio.client import Client

from hrops import __version__
from hrops import request_service as svc
from hrops.api import auth
from hrops.channels import assistant_port
from hrops.channels.assistant_port import ChatIn, ChatOut
from hrops.channels.routes import channels_of
from hrops.channels.routes import router as channels_router
from hrops.clock import today
from hrops.console import router as console_router
from hrops.settings import Settings, get_settings
from hrops.temporal_client import TemporalUnavailable, connect
from tools.analytics.ask import Asked
from tools.analytics.coverage import Coverage, coverage
from tools.analytics.engine import Refused
from tools.hr.changes import ChangeDetails, RecordChange
from tools.hr.schemas import PostalAddress
from tools.registry import registry
from tools.store.db import engine_for, session_scope
from tools.store.identity import ALL_SEEING, Principal
from workflows.approvals import DecisionRecord, Verdict
from workflows.record_change.messages import RequestState

bearer = HTTPBearer(auto_error=False)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    import tools.hr  # noqa: F401  (registers the HR tools)
    import tools.onboarding  # noqa: F401  (registers the onboarding tools)

    app.state.client = getattr(app.state, "client", None)
    assistant_port.install(_assistant)  # every channel's messages go to the chat assistant
    yield
    assistant_port.install(None)


async def _assistant(message: ChatIn) -> ChatOut:
    """The chat assistant, on the API's Temporal client (connected on first use)."""
    from hrops import assistant_service

    if app.state.client is None:
        app.state.client = await connect()
    return await assistant_service.responder(app.state.client)(message)


app = FastAPI(title="HR Ops Orchestrator", version=__version__, lifespan=lifespan)
app.include_router(channels_router)  # /channels/slack|feishu|webhook: chat platforms (docs/channels.md)
app.include_router(console_router)  # /console: the web console (docs/console.md)


async def temporal(request: Request) -> Client:
    client = getattr(request.app.state, "client", None)
    if client is None:
        try:
            client = request.app.state.client = await connect()
        except TemporalUnavailable as e:
            raise HTTPException(503, str(e)) from None
    return client


def settings() -> Settings:
    return get_settings()


async def caller(
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    cfg: Annotated[Settings, Depends(settings)],
) -> Principal:
    if creds is None:
        raise HTTPException(401, "sign in: send `Authorization: Bearer <token>` (`hrops token create USER`)")
    try:
        username = auth.verify(cfg, creds.credentials)
        return await asyncio.to_thread(svc.principal, username, cfg)
    except (auth.BadToken, svc.RequestError) as e:
        raise HTTPException(401, str(e)) from None


Caller = Annotated[Principal, Depends(caller)]
Temporal = Annotated[Client, Depends(temporal)]


@app.get("/healthz")
def healthz() -> dict[str, str]:
    with engine_for(get_settings().db_url).connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}


class ToolInfo(BaseModel):
    name: str
    risk: str
    requires_approval: bool
    roles: list[str]
    description: str


@app.get("/api/tools")
def tools_catalogue(_: Caller) -> list[ToolInfo]:
    return [
        ToolInfo(
            name=s.name,
            risk=s.risk,
            requires_approval=s.requires_approval,
            roles=sorted(s.roles),
            description=s.description,
        )
        for s in registry
    ]


@app.get("/api/me")
def me(who: Caller) -> Principal:
    return who


@app.get("/api/approvals")
async def my_approvals(who: Caller, client: Temporal) -> list[svc.InboxItem]:
    return await svc.inbox(client, who)


class AddressChangeIn(BaseModel):
    employee_id: str
    address: PostalAddress
    effective_on: date | None = None


@app.post("/api/requests/address-change", status_code=201)
async def request_address_change(body: AddressChangeIn, who: Caller, client: Temporal) -> svc.Submitted:
    try:
        return await svc.submit_address_change(client, who, body.employee_id, body.address, body.effective_on)
    except svc.RequestError as e:
        raise HTTPException(422, str(e)) from None


class ChangeIn(BaseModel):
    employee_id: str
    details: ChangeDetails
    effective_on: date | None = None


@app.post("/api/requests/change", status_code=201)
async def request_change(body: ChangeIn, who: Caller, client: Temporal) -> svc.Submitted:
    """Any record change: address, job title, transfer, manager change, salary change, termination."""
    change = RecordChange(
        employee_id=body.employee_id, details=body.details, effective_on=body.effective_on or today()
    )
    try:
        return await svc.submit_change(client, who, change)
    except svc.RequestError as e:
        raise HTTPException(422, str(e)) from None


class AskIn(BaseModel):
    question: str = Field(min_length=1, max_length=1000)


@app.post("/api/ask")
async def ask_question(body: AskIn, who: Caller) -> Asked:
    """A data question in English or Chinese, answered for the caller's organisation only."""
    from hrops import analytics_service

    result = await analytics_service.ask(who, body.question)
    if result.answer is not None:
        result.answer.sql = []  # the SQL is in the audit trail of the compiler, not for callers
    return result


@app.get("/api/analytics/catalogue")
def analytics_catalogue(who: Caller, org_unit: str | None = None) -> Coverage:
    """Every metric that can be asked about, and whether the data in the caller's scope answers it."""
    try:
        with session_scope(get_settings().db_url) as session:
            return coverage(session, who, today(), org_unit)
    except Refused as e:
        raise HTTPException(403, str(e)) from None


class WebChatIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    thread: str = Field("web", max_length=200)
    message_id: str = Field(
        min_length=1, max_length=200, description="unique per message: a resend is answered once"
    )


@app.post("/api/chat")
async def chat(body: WebChatIn, who: Caller, request: Request) -> ChatOut:
    """The web console's chat: the signed-in user talks to the assistant (channel `web`)."""
    out = await channels_of(request.app).chat(
        "web", who.username, body.text, f"{who.username}/{body.thread}", body.message_id, user=who.username
    )
    if out is None:
        raise HTTPException(409, f"message {body.message_id} was answered already")
    return out


class CancelIn(BaseModel):
    reason: str


@app.post("/api/requests/{request_id}/cancel")
async def cancel_request(request_id: str, body: CancelIn, who: Caller, client: Temporal) -> dict[str, str]:
    try:
        stage = await svc.cancel(client, request_id, who, body.reason)
    except svc.RequestError as e:
        raise HTTPException(409, str(e)) from None
    return {"request_id": request_id.upper(), "cancelled_at_stage": stage}


@app.post("/api/requests/{request_id}/undo", status_code=201)
async def undo_request(request_id: str, who: Caller, client: Temporal) -> svc.Submitted:
    """Request the compensating change of an applied request (through the same approvals)."""
    try:
        return await svc.undo(client, request_id, who)
    except svc.RequestError as e:
        raise HTTPException(409, str(e)) from None


@app.get("/api/requests/{request_id}")
async def get_request(request_id: str, who: Caller, client: Temporal) -> RequestState:
    try:
        state = await svc.show(client, request_id)
    except svc.RequestError:
        state = None
    if isinstance(state, svc.RequestSummary):
        # Only people who may see every request learn that this one exists.
        if who.has(*ALL_SEEING):
            raise HTTPException(503, "no worker is answering; try again shortly")
        state = None
    if state is None or not svc.may_see(who, state):
        raise HTTPException(404, f"no request {request_id} that you may see")
    return state


class DecisionIn(BaseModel):
    verdict: Verdict
    reason: str | None = None
    edits: dict[str, str] = {}


@app.post("/api/requests/{request_id}/decision")
async def decide(request_id: str, body: DecisionIn, who: Caller, client: Temporal) -> DecisionRecord:
    try:
        return await svc.decide(client, request_id, who, body.verdict, body.reason, None, body.edits)
    except svc.RequestError as e:
        raise HTTPException(409, str(e)) from None
