"""Starting an onboarding and reading its readiness. The CLI, the API and the demo go through here;
deciding, cancelling and looking up are the same as for every request (`request_service`)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from hrops import request_service as svc
from hrops.settings import Settings, get_settings
from tools.onboarding.schemas import NewHire, OnboardingCheck, offer_plan_query
from tools.registry import ToolError, registry
from tools.store.identity import Principal
from workflows.onboarding.messages import KIND, OnboardingRequest, OnboardingState, Readiness, workflow_id_for
from workflows.onboarding.workflow import OnboardingWorkflow


class OnboardingSubmitted(svc.Submitted):
    offer: OnboardingCheck | None = None


async def submit_onboarding(
    client: Client, requester: Principal, hire: NewHire, settings: Settings | None = None
) -> OnboardingSubmitted:
    """Check the offer, then start its onboarding once: the same offer again returns it."""
    settings = settings or get_settings()
    workflow_id = workflow_id_for(hire)
    ctx = svc.tool_context(requester)
    try:
        check: OnboardingCheck = await asyncio.to_thread(registry.call, "onboarding.check", ctx, hire)
    except ToolError as e:
        raise svc.RequestError(str(e)) from None
    running = await svc.running_request(client, workflow_id, OnboardingState)
    if running is not None:
        return OnboardingSubmitted(request_id=running.request_id, workflow_id=workflow_id, created=False)
    if not check.ok:
        raise svc.RequestError("; ".join(check.problems))
    await svc.route(requester, offer_plan_query(hire, check, requester.username))
    request_id, created = await svc.start_once(
        client,
        settings,
        kind=KIND,
        subject="",
        workflow_id=workflow_id,
        requester=requester,
        run=OnboardingWorkflow.run,
        make_input=lambda rid: OnboardingRequest(
            request_id=rid, hire=hire, requested_by=requester.username, requester_roles=requester.roles
        ),
    )
    return OnboardingSubmitted(request_id=request_id, workflow_id=workflow_id, created=created, offer=check)


async def readiness(client: Client, request_id: str, settings: Settings | None = None) -> Readiness:
    """What is done for day 1, what is late and who owns it, as of now."""
    return await svc.query(client, request_id, "readiness", Readiness, settings)
