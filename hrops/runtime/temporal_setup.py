"""What the product needs on a Temporal cluster it did not start: its namespace and its search
attributes (`hrops temporal setup`), and a health probe for containers (`hrops temporal health`).

`hrops up` does the same for the embedded dev server at start. A deployment runs the setup once per
release from a one-shot job; it is idempotent, so running it again changes nothing.
"""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    DescribeTaskQueueRequest,
    RegisterNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from hrops.settings import Settings
from hrops.temporal_client import TemporalUnavailable, connect
from workflows import search_attributes

RPC_TIMEOUT = timedelta(seconds=5)


class SetupError(RuntimeError):
    """One line: what went wrong and what to do."""


class SetupReport(BaseModel):
    address: str
    namespace: str
    namespace_created: bool
    attributes_added: list[str]


async def connect_within(settings: Settings, wait: float) -> Client:
    """Connect, trying again for `wait` seconds: in a deployment the cluster may still be starting."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return await connect(settings)
        except TemporalUnavailable as e:
            if time.monotonic() >= deadline:
                raise SetupError(str(e)) from None
        await asyncio.sleep(1)


async def ensure_namespace(client: Client, namespace: str, retention: timedelta) -> bool:
    """Register the namespace unless it exists; True when this call created it."""
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace), timeout=RPC_TIMEOUT
        )
        return False
    except RPCError as e:
        if e.status != RPCStatusCode.NOT_FOUND:
            raise
    try:
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace,
                description="HR Ops Orchestrator",
                workflow_execution_retention_period=Duration(seconds=int(retention.total_seconds())),
            ),
            timeout=RPC_TIMEOUT,
        )
    except RPCError as e:
        if e.status == RPCStatusCode.ALREADY_EXISTS:  # a second setup job got there first
            return False
        raise
    return True


async def _register_attributes(client: Client, namespace: str, wait: float) -> list[str]:
    # A namespace registered a moment ago is unknown to the frontend until its namespace cache
    # refreshes (about 10 s), so NOT_FOUND is retried for a while.
    deadline = time.monotonic() + wait
    while True:
        try:
            return await search_attributes.ensure_registered(client, namespace)
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(1)


async def setup(settings: Settings, *, retention: timedelta, wait: float) -> SetupReport:
    client = await connect_within(settings, wait)
    target, namespace = settings.temporal_target, settings.temporal_namespace
    try:
        created = await ensure_namespace(client, namespace, retention)
        added = await _register_attributes(client, namespace, max(wait, 30.0) if created else wait)
    except RPCError as e:
        names = ", ".join(k.name for k in search_attributes.ALL)
        raise SetupError(
            f"Temporal at {target} refused the setup of namespace {namespace!r} ({e.status.name}: {e.message}); "
            f"ask its operator to create the namespace and add the search attributes {names}"
        ) from None
    return SetupReport(address=target, namespace=namespace, namespace_created=created, attributes_added=added)


async def polled_here(client: Client, namespace: str, queue: str) -> bool:
    """Whether a worker on this host polls `queue`. Temporal names each poller `<pid>@<hostname>`,
    and a container's hostname is its own, so this asks about the worker in this container."""
    suffix = f"@{socket.gethostname()}"
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
            ),
            timeout=RPC_TIMEOUT,
        )
        if any(p.identity.endswith(suffix) for p in resp.pollers):
            return True
    return False


async def health(settings: Settings, queues: list[str]) -> list[str]:
    """What is wrong (empty: healthy): Temporal answers, and this host's worker polls each queue."""
    target, namespace = settings.temporal_target, settings.temporal_namespace
    try:
        client = await connect(settings)
        await client.service_client.check_health(timeout=RPC_TIMEOUT)
        idle = [q for q in queues if not await polled_here(client, namespace, q)]
    except TemporalUnavailable as e:
        return [str(e)]
    except RPCError as e:
        return [f"Temporal at {target} did not answer for namespace {namespace!r} ({e.status.name})"]
    return [f"no worker on this host ({socket.gethostname()}) polls task queue {q}" for q in idle]
