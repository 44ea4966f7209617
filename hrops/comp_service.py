"""Starting market research and reading it. The CLI, the API and the demo go through here;
deciding and cancelling are the same as for every request (`request_service`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from hrops import request_service as svc
from hrops.clock import today
from hrops.settings import Settings, get_settings
from tools.approvals.rules import ChangeType
from tools.hr.approvers import PlanQuery
from tools.market import matching, normalise
from tools.market.models import MarketError, MarketQuestion, Match
from tools.market.tools import RESEARCHERS
from tools.store.identity import Principal
from workflows import search_attributes as sa
from workflows.comp_research.messages import (
    KIND,
    CompResearchRequest,
    CompResearchState,
    Stage,
    workflow_id_for,
)
from workflows.comp_research.workflow import CompResearchWorkflow


class ResearchSubmitted(svc.Submitted):
    match: Match


def check(requester: Principal, question: MarketQuestion, soc_code: str | None = None) -> Match:
    """Everything that can be refused before a workflow starts: the role, the currency, the match."""
    if not requester.has(*RESEARCHERS):
        raise svc.RequestError(
            f"{requester.username} may not request market research (comp analysts, HR ops, HRBPs and admins may)"
        )
    try:
        normalise.check_currency(question.currency)
        found = (
            matching.choose(question.title, soc_code, question.level)
            if soc_code
            else matching.match(question.title, question.level)
        )
    except MarketError as e:
        raise svc.RequestError(str(e)) from None
    if found.needs_choice:
        options = "; ".join(
            f"--soc {c.soc_code} ({c.soc_title}, {c.confidence:.0%})" for c in found.candidates
        )
        raise svc.RequestError(
            f'"{question.title}" does not match an occupation with confidence ({found.rationale}). '
            f"Choose one: {options}"
        )
    return found


async def submit_research(
    client: Client,
    requester: Principal,
    question: MarketQuestion,
    soc_code: str | None = None,
    settings: Settings | None = None,
) -> ResearchSubmitted:
    """Check, then start the research once: the same question the same day returns it."""
    settings = settings or get_settings()
    found = await asyncio.to_thread(check, requester, question, soc_code)
    workflow_id = workflow_id_for(question, soc_code, today().isoformat())
    running = await svc.running_request(client, workflow_id, CompResearchState)
    if running is not None:
        return ResearchSubmitted(
            request_id=running.request_id, workflow_id=workflow_id, created=False, match=found
        )
    if published := await _published_today(client, workflow_id):
        return ResearchSubmitted(request_id=published, workflow_id=workflow_id, created=False, match=found)
    await svc.route(requester, PlanQuery(change=ChangeType.COMP_RESEARCH, requested_by=requester.username))
    request_id, created = await svc.start_once(
        client,
        settings,
        kind=KIND,
        subject="",
        workflow_id=workflow_id,
        requester=requester,
        run=CompResearchWorkflow.run,
        make_input=lambda rid: CompResearchRequest(
            request_id=rid,
            question=question,
            soc_code=soc_code,
            requested_by=requester.username,
            requester_roles=requester.roles,
        ),
    )
    return ResearchSubmitted(request_id=request_id, workflow_id=workflow_id, created=created, match=found)


async def _published_today(client: Client, workflow_id: str) -> str | None:
    """The request that already published this question today (a rejected or failed one may be
    asked again; a published one is the answer)."""
    try:
        desc = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as e:
        if e.status is RPCStatusCode.NOT_FOUND:
            return None
        raise
    if desc.typed_search_attributes.get(sa.STAGE) == Stage.PUBLISHED.value:
        return desc.typed_search_attributes.get(sa.REQUEST_ID)
    return None


async def wait_for_draft(client: Client, request_id: str, timeout: float = 60.0) -> CompResearchState:
    """The state once research has finished (a draft to approve, or why there is none)."""
    return await _wait(client, request_id, lambda st: st.stage is not Stage.RESEARCHING, timeout)


async def wait_for_published(client: Client, request_id: str, timeout: float = 60.0) -> CompResearchState:
    """The state once the request is closed (published, or why not)."""
    return await _wait(client, request_id, lambda st: st.stage.closed, timeout)


async def _wait(
    client: Client, request_id: str, done: Callable[[CompResearchState], bool], timeout: float
) -> CompResearchState:
    loop = asyncio.get_running_loop()
    stop = loop.time() + timeout
    while True:
        state = await svc.query(client, request_id, "state", CompResearchState)
        if done(state) or loop.time() > stop:
            return state
        await asyncio.sleep(0.05)  # a draft takes a few hundred milliseconds: ask often
