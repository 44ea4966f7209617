"""The HTTP API: health, the tool catalogue, requests and approvals for the signed-in user.

Every `/api` route needs a bearer token (`hrops token create USER`). What a caller may see is
decided here in code: a request is visible to its requester, its approvers, its subject and
HR ops / admin; anyone else gets 404, the same as for a request that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from temporalio.client import Client

from hrops import __version__
from hrops import request_service as svc
from hrops.api import auth
from hrops.api.health import router as health_router
from hrops.channels import assistant_port
from hrops.channels.assistant_port import ChatIn, ChatOut
from hrops.channels.routes import channels_of
from hrops.channels.routes import router as channels_router
from hrops.clock import today
from hrops.console import router as console_router
from hrops.metrics import router as metrics_router
from hrops.settings import Settings, get_settings
from hrops.temporal_client import TemporalUnavailable, connect
from tools.analytics.ask import Asked
from tools.analytics.coverage import Coverage, coverage
from tools.analytics.engine import Refused
from tools.hr.changes import ChangeDetails
from tools.hr.schemas import PostalAddress
from tools.privacy import receipts
from tools.privacy.receipts import Receipt
from tools.registry import registry
from tools.store.db import busy_message, session_scope
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
app.include_router(health_router)  # /healthz, /readyz: liveness and readiness (docs/deploy.md)
app.include_router(channels_router)  # /channels/slack|feishu|webhook: chat platforms (docs/channels.md)
app.include_router(console_router)  # /console: the web console (docs/console.md)
app.include_router(metrics_router)  # /metrics: Prometheus, no personal data (docs/operations.md)


@app.exception_handler(RequestValidationError)
async def invalid_body(_: Request, exc: RequestValidationError) -> JSONResponse:
    """422: where and what is wrong, without the input echoed back (it may be personal, huge, or
    not even encodable: a lone surrogate or an infinite number fails FastAPI's own answer with a 500)."""

    def text(value: object) -> str | int:
        return value if isinstance(value, int) else str(value).encode("utf-8", "replace").decode("utf-8")

    errors = [
        {
            "loc": [text(part) for part in e.get("loc", ())],
            "msg": text(e.get("msg", "")),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]
    return JSONResponse({"detail": errors}, status_code=422)


@app.exception_handler(OperationalError)
async def store_unavailable(_: Request, exc: OperationalError) -> JSONResponse:
    """503 when the store is locked by another process past the busy timeout (or unreachable),
    not a 500 whose text quotes the SQL and its parameters."""
    message = busy_message(exc) or "the HR store did not answer: try again in a minute"
    return JSONResponse({"detail": message}, status_code=503, headers={"Retry-After": "60"})


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


def _refused(e: svc.RequestError) -> HTTPException:
    """409 for an action refused on a request; 404 for one the caller may not see (as for none)."""
    return HTTPException(404 if isinstance(e, svc.NotVisible) else 409, str(e))


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
    try:
        change = svc.record_change(body.employee_id, body.details, body.effective_on or today())
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
        raise _refused(e) from None
    return {"request_id": request_id.upper(), "cancelled_at_stage": stage}


@app.post("/api/requests/{request_id}/undo", status_code=201)
async def undo_request(request_id: str, who: Caller, client: Temporal) -> svc.Submitted:
    """Request the compensating change of an applied request (through the same approvals)."""
    try:
        return await svc.undo(client, request_id, who)
    except svc.RequestError as e:
        raise _refused(e) from None


async def _visible(request_id: str, who: Principal, client: Client) -> RequestState:
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


@app.get("/api/requests/{request_id}")
async def get_request(request_id: str, who: Caller, client: Temporal) -> RequestState:
    return await _visible(request_id, who, client)


@app.get("/api/requests/{request_id}/receipts")
async def request_receipts(request_id: str, who: Caller, client: Temporal) -> list[Receipt]:
    """What the request's model calls sent and where, without the text itself (see /api/receipts)."""
    state = await _visible(request_id, who, client)
    with session_scope(get_settings().db_url) as s:
        found = receipts.for_request(s, state.request_id)
    return [r.model_copy(update={"sent_text": None}) for r in found]


@app.get("/api/receipts", response_model=None)
def all_receipts(who: Caller, format: Literal["json", "csv"] = "json", since: date | None = None) -> Response:
    """Every receipt, with the exact text each call sent (admins): the compliance export."""
    if not who.has("admin"):
        raise HTTPException(403, "exporting egress receipts needs the admin role")
    with session_scope(get_settings().db_url) as s:
        rows = receipts.listed(s, since=datetime.combine(since, time.min) if since else None)
    if format == "csv":
        return Response(receipts.to_csv(rows), media_type="text/csv")
    return Response(receipts.to_json(rows), media_type="application/json")


class DecisionIn(BaseModel):
    verdict: Verdict
    reason: str | None = None
    edits: dict[str, str] = {}


@app.post("/api/requests/{request_id}/decision")
async def decide(request_id: str, body: DecisionIn, who: Caller, client: Temporal) -> DecisionRecord:
    try:
        return await svc.decide(client, request_id, who, body.verdict, body.reason, None, body.edits)
    except svc.RequestError as e:
        raise _refused(e) from None


from hrops.api.review_routes import router as review_router  # noqa: E402  (it imports Caller above)

app.include_router(review_router)  # /api/reviews: the compliance review queue (docs/review.md)

from hrops.api.kb_routes import router as kb_router  # noqa: E402  (it imports Caller above)

app.include_router(kb_router)  # /api/kb, /api/cases: the HR policy assistant and its cases
