"""Approval routing for the CLI and the API: explain the rules, delegate while away.

A delegation that starts today also reaches requests already waiting for the absent person: each
gets the delegate added to its waiting step at once (Update `add_stand_in`), found with one
visibility query.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError

from hrops.clock import today
from hrops.request_service import RequestError, pending_for
from hrops.settings import get_settings
from tools.approvals import delegations
from tools.approvals.people import NobodyToApprove, approver_ref
from tools.approvals.rules import ChangeType, RulesError
from tools.hr.approvers import ApprovalPlan, PlanQuery, plan_for
from tools.hr.schemas import ApproverRef
from tools.registry import ToolError
from tools.store.db import session_scope
from tools.store.identity import Principal
from tools.store.models import User
from workflows import search_attributes as sa
from workflows.approvals import StandIn


class Delegated(BaseModel):
    delegation: delegations.DelegationView
    handed_over: list[str]  # requests already waiting that the delegate may now decide


def explain(
    change: ChangeType,
    employee_id: str,
    *,
    requested_by: str | None = None,
    new_manager_id: str | None = None,
    increase_percent: Decimal | None = None,
    outside_pay_band: bool | None = None,
) -> ApprovalPlan:
    try:
        return plan_for(
            PlanQuery(
                change=change,
                employee_id=employee_id,
                requested_by=requested_by,
                new_manager_id=new_manager_id,
                increase_percent=increase_percent,
                outside_pay_band=outside_pay_band,
            )
        )
    except (ToolError, NobodyToApprove, RulesError) as e:
        raise RequestError(str(e)) from None


def _store_delegation(who: Principal, from_user: str, to_user: str, starts_on: date, until: date):  # noqa: ANN202
    with session_scope(get_settings().db_url, write=True) as session:
        try:
            return delegations.create(session, who, from_user, to_user, starts_on, until, today())
        except delegations.DelegationError as e:
            raise RequestError(str(e)) from None


def _delegate_ref(username: str, absent: str) -> ApproverRef:
    with session_scope(get_settings().db_url) as session:
        user = session.get(User, username)
        assert user is not None  # the delegation was just validated
        return approver_ref(user, on_behalf_of=absent)


async def delegate(
    client: Client, who: Principal, from_user: str, to_user: str, until: date, starts_on: date | None = None
) -> Delegated:
    starts_on = starts_on or today()
    view = await asyncio.to_thread(_store_delegation, who, from_user, to_user, starts_on, until)
    handed: list[str] = []
    if starts_on <= today():
        ref = await asyncio.to_thread(_delegate_ref, to_user, from_user)
        async for w in client.list_workflows(pending_for(from_user)):
            try:
                added = await client.get_workflow_handle(w.id).execute_update(
                    "add_stand_in", StandIn(absent=from_user, delegate=ref), result_type=list[str]
                )
            except WorkflowUpdateFailedError:
                continue  # decided in the meantime: nothing to hand over
            if added:
                handed.append(w.typed_search_attributes.get(sa.REQUEST_ID) or w.id)
    return Delegated(delegation=view, handed_over=handed)


def list_delegations(username: str | None = None) -> list[delegations.DelegationView]:
    with session_scope(get_settings().db_url) as session:
        return delegations.active(session, today(), username)
