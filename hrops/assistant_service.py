"""The chat assistant for the CLI, the API and every channel: one graph, its threads checkpointed
in SQLite (`<var_dir>/assistant.db`) or, with a Postgres HR store, in Postgres (the conversation:
what was typed and the request being filled in).

A message that starts a request or records a decision leaves an audit entry (`chat.request`,
`chat.decision`) with the request id and the message's channel and id, never its text: the first
link of chat message -> request -> approval -> tool call -> record change (`hrops audit trail`)."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from temporalio.client import Client

from agents.assistant.graph import Deps, Reply, build_graph, respond
from agents.assistant.intake import RequestKind
from agents.assistant.ports import PolicyReply, Refusal, Started
from hrops.channels.assistant_port import ChatIn, ChatOut, Responder
from hrops.logging import get_logger
from hrops.settings import Settings, get_settings
from tools.store.identity import Principal

log = get_logger(__name__)


class ChatOrigin(BaseModel):
    """Which message is being answered, for the audit: the channel and the platform's message id."""

    channel: str
    message_id: str
    received_at: datetime


async def chat(
    client: Client,
    who: Principal,
    thread: str,
    text: str,
    settings: Settings | None = None,
    *,
    origin: ChatOrigin | None = None,
) -> Reply:
    """One message in one thread (threads are per user: another user's thread id is another thread).
    Without an `origin` (the terminal) the message gets a fresh id on channel `cli`."""
    settings = settings or get_settings()
    origin = origin or ChatOrigin(
        channel="cli", message_id=f"cli-{uuid.uuid4().hex[:16]}", received_at=datetime.now(UTC)
    )
    async with _saver(settings) as saver:
        services = ProductServices(client, who, settings, origin=origin, thread=thread)
        return await respond(build_graph(saver), Deps(who=who, services=services), thread, text)


@asynccontextmanager
async def _saver(settings: Settings) -> AsyncIterator[Any]:
    """Threads live beside the HR store: in Postgres when the store is Postgres (every API process
    sees every thread), else in SQLite under the var dir."""
    url = make_url(settings.db_url)
    if url.get_backend_name() == "postgresql":
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        async with AsyncPostgresSaver.from_conn_string(conninfo) as saver:
            if conninfo not in _ready:
                await saver.setup()  # its own tables, created once (idempotent)
                _ready.add(conninfo)
            yield saver
        return
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    async with AsyncSqliteSaver.from_conn_string(str(settings.var_dir / "assistant.db")) as saver:
        yield saver


_ready: set[str] = set()


def responder(client: Client, settings: Settings | None = None) -> Responder:
    """The channels' responder (install it with `hrops.channels.assistant_port.install`)."""
    from hrops import request_service as svc

    async def answer(message: ChatIn) -> ChatOut:
        who = svc.principal(message.user, settings)
        origin = ChatOrigin(
            channel=message.channel, message_id=message.message_id, received_at=datetime.now(UTC)
        )
        thread = f"{message.channel}:{message.thread}"
        reply = await chat(client, who, thread, message.text, settings, origin=origin)
        return ChatOut(text=reply.text)

    return answer


class ProductServices:
    """The assistant's port onto the product: the same services as the CLI and the API."""

    def __init__(
        self,
        client: Client,
        who: Principal,
        settings: Settings,
        *,
        origin: ChatOrigin | None = None,
        thread: str = "",
    ) -> None:
        self.client, self.who, self.settings = client, who, settings
        self.db_url = settings.db_url
        self.origin, self.thread = origin, thread

    async def _audit(
        self,
        action: str,
        request_id: str,
        entity_id: str | None,
        workflow_id: str | None = None,
        **details: Any,
    ) -> None:
        """Link the message being answered to the request it started or decided (ids, no text)."""
        from tools.store import audit
        from tools.store.db import session_scope

        o = self.origin
        if o is None:
            return
        # The thread id as the assistant's checkpointer keys it, hashed: a terminal user names threads.
        thread = hashlib.sha256(f"{self.who.username}:{self.thread}".encode()).hexdigest()[:16]
        key = hashlib.sha256(f"{o.channel}\n{o.message_id}\n{action}\n{request_id}".encode()).hexdigest()
        event = audit.AuditEvent(
            actor=self.who.username,
            action=action,
            entity_type="employee" if entity_id else None,
            entity_id=entity_id,
            request_id=request_id,
            workflow_id=workflow_id,
            details={"channel": o.channel, "chat_message": o.message_id, "chat_thread": thread, **details},
            event_key=f"chat:{key[:40]}",  # a message delivered again links once
        )

        def write() -> None:
            with session_scope(self.db_url, write=True) as s:
                # `at` is when the message arrived: before the request it starts had a number.
                audit.append(s, event, at=o.received_at)

        await asyncio.to_thread(write)

    def preview(self, kind: RequestKind, request: Any) -> tuple[str, list[str]]:
        from hrops import comp_service
        from hrops import request_service as svc
        from tools.registry import ToolError, registry

        ctx = svc.tool_context(self.who)
        try:
            if kind is RequestKind.ONBOARDING:
                check = registry.call("onboarding.check", ctx, request)
                head = f"onboard {request.display_name} as {request.title} in {request.org_unit} from {request.start_date}"
                return "\n".join([head, *check.notes]), check.problems
            if kind is RequestKind.COMP_RESEARCH:
                match = comp_service.check(self.who, request)
                return f"market research for {request.title}: SOC {match.soc_code} {match.soc_title}", []
            check = registry.call("employee.check_change", ctx, request)
        except (ToolError, svc.RequestError) as e:
            return "", [str(e)]
        name = check.employee.display_name if check.employee else request.employee_id
        lines = [
            f"{kind.value.replace('_', ' ')} for {name} ({request.employee_id}) from {request.effective_on}:"
        ]
        lines += [f"  {d.field}: {d.before or '-'} -> {d.after or '-'}" for d in check.diff]
        lines += [f"  also: {x}" for x in check.side_effects]
        return "\n".join(lines), check.problems

    async def start(self, kind: RequestKind, request: Any) -> Started:
        from hrops import comp_service, onboarding_service
        from hrops import request_service as svc

        try:
            if kind is RequestKind.ONBOARDING:
                sub = await onboarding_service.submit_onboarding(
                    self.client, self.who, request, self.settings
                )
            elif kind is RequestKind.COMP_RESEARCH:
                sub = await comp_service.submit_research(
                    self.client, self.who, request, settings=self.settings
                )
            else:
                sub = await svc.submit_change(self.client, self.who, request, self.settings)
        except svc.RequestError as e:
            raise Refusal(str(e)) from None
        await self._audit(
            "chat.request",
            sub.request_id,
            getattr(request, "employee_id", None),
            sub.workflow_id,
            kind=kind.value,
            created=sub.created,
        )
        return Started(request_id=sub.request_id, created=sub.created)

    async def decide(self, request_id: str, approve: bool, reason: str | None) -> str:
        from hrops import request_service as svc
        from workflows.approvals import Verdict

        verdict = Verdict.APPROVE if approve else Verdict.REJECT
        try:
            record = await svc.decide(self.client, request_id, self.who, verdict, reason, self.settings)
        except svc.RequestError as e:
            raise Refusal(str(e)) from None
        await self._audit(
            "chat.decision",
            record.request_id,
            None,
            step=record.step,
            verdict=record.verdict.value,
            decided_at=record.decided_at.isoformat(),
        )
        return record.verdict.past

    async def status(self, request_id: str) -> str:
        from hrops import request_service as svc

        try:
            state = await svc.show_to(self.client, request_id, self.who, self.settings)
        except svc.RequestError as e:
            raise Refusal(str(e)) from None
        waiting = getattr(getattr(state, "approval", None), "pending_usernames", None)
        return f"{request_id.upper()}: {state.stage}" + (
            f" (waiting for {', '.join(waiting)})" if waiting else ""
        )

    def requests_for(self, employee_id: str) -> list[str]:
        from hrops import request_service as svc

        return svc.requests_for(employee_id, self.settings)

    async def ask(self, question: str) -> tuple[str, bool]:
        from hrops import analytics_service

        asked = await analytics_service.ask(self.who, question, self.settings)
        return asked.text, asked.refused

    async def policy(self, question: str) -> PolicyReply:
        from hrops import knowledge_service

        # In a thread: the service is synchronous (a configured model is run with asyncio.run there).
        answer = await asyncio.to_thread(knowledge_service.ask, self.who, question, settings=self.settings)
        return PolicyReply(text=answer.text, handed_off=answer.status == "handed_off", case_id=answer.case_id)

    async def needs_a_person(self, message: str) -> bool:
        from tools.knowledge.triage_by_meaning import by_meaning
        from tools.store.db import session_scope

        def check() -> bool:
            with session_scope(self.settings.db_url) as s:
                return by_meaning(s, message, self.settings) is not None

        try:
            return await asyncio.to_thread(check)
        except Exception as e:  # noqa: BLE001 - the message is still read; the patterns still apply
            log.warning("triage by meaning failed", error=type(e).__name__)
            return False
