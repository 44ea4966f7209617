"""The chat assistant for the CLI, the API and every channel: one graph, its threads checkpointed
in SQLite (`<var_dir>/assistant.db`) or, with a Postgres HR store, in Postgres (the conversation:
what was typed and the request being filled in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from sqlalchemy.engine import make_url
from temporalio.client import Client

from agents.assistant.graph import Deps, Reply, build_graph, respond
from agents.assistant.intake import RequestKind
from agents.assistant.ports import Refusal, Started
from hrops.channels.assistant_port import ChatIn, ChatOut, Responder
from hrops.settings import Settings, get_settings
from tools.store.identity import Principal


async def chat(
    client: Client, who: Principal, thread: str, text: str, settings: Settings | None = None
) -> Reply:
    """One message in one thread (threads are per user: another user's thread id is another thread)."""
    settings = settings or get_settings()
    async with _saver(settings) as saver:
        services = ProductServices(client, who, settings)
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
        reply = await chat(client, who, f"{message.channel}:{message.thread}", message.text, settings)
        return ChatOut(text=reply.text)

    return answer


class ProductServices:
    """The assistant's port onto the product: the same services as the CLI and the API."""

    def __init__(self, client: Client, who: Principal, settings: Settings) -> None:
        self.client, self.who, self.settings = client, who, settings
        self.db_url = settings.db_url

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
        return Started(request_id=sub.request_id, created=sub.created)

    async def decide(self, request_id: str, approve: bool, reason: str | None) -> str:
        from hrops import request_service as svc
        from workflows.approvals import Verdict

        verdict = Verdict.APPROVE if approve else Verdict.REJECT
        try:
            record = await svc.decide(self.client, request_id, self.who, verdict, reason, self.settings)
        except svc.RequestError as e:
            raise Refusal(str(e)) from None
        return record.verdict.past

    async def status(self, request_id: str) -> str:
        from hrops import request_service as svc

        try:
            state = await svc.show(self.client, request_id, self.settings)
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
