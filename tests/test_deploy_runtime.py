"""What the deployment files rely on, against a real Temporal dev server: the API's liveness and
readiness endpoints, `hrops temporal setup` (the setup job) and `hrops temporal health` (the
workers' health check)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio import activity
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.worker import Worker
from typer.testing import CliRunner

from hrops.api.app import app
from hrops.cli import app as cli
from hrops.cli.common import CliError
from hrops.settings import reset_settings
from workflows import search_attributes, task_queues


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _address(temporal_env) -> str:  # noqa: ANN001
    return temporal_env.client.service_client.config.target_host


async def hrops(*args: str) -> tuple[int, str]:
    """Exit code and what the user reads: the output, or the one-line error (`fail(...)`)."""
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args), env={"COLUMNS": "200"})
    if isinstance(result.exception, CliError):
        return 1, str(result.exception)
    return result.exit_code, result.output


@pytest.fixture
async def api():
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hrops") as http:
        yield http
    app.state.client = None


@pytest.fixture
def cluster(temporal_env, monkeypatch: pytest.MonkeyPatch) -> str:
    """The dev server as an external cluster, in a namespace of this test's own (none exists yet)."""
    namespace = f"deploy-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", _address(temporal_env))
    monkeypatch.setenv("HROPS_TEMPORAL_NAMESPACE", namespace)
    reset_settings()
    return namespace


# -- /healthz and /readyz -------------------------------------------------------------------------


async def test_ready_when_the_store_and_temporal_answer(
    api: httpx.AsyncClient, store_url: str, temporal_env
) -> None:
    app.state.client = temporal_env.client
    live, ready = await api.get("/healthz"), await api.get("/readyz")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "store": "ok", "temporal": "ok"}


async def test_a_store_outage_makes_the_api_unready_but_not_dead(
    api: httpx.AsyncClient, temporal_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A directory where the SQLite file should be: the store cannot be opened.
    (tmp_path / "not-a-db").mkdir()
    monkeypatch.setenv("HROPS_DATABASE_URL", f"sqlite:///{tmp_path / 'not-a-db'}")
    reset_settings()
    app.state.client = temporal_env.client
    assert (await api.get("/healthz")).status_code == 200  # no restart for a database outage
    ready = await api.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready" and body["temporal"] == "ok"
    assert "HR store did not answer" in body["store"] and "HROPS_DATABASE_URL" in body["store"]
    assert "not-a-db" not in ready.text  # the URL (and any password in it) stays out of the answer


async def test_an_unreachable_temporal_makes_the_api_unready(
    api: httpx.AsyncClient, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", f"127.0.0.1:{port}")
    reset_settings()
    app.state.client = None
    ready = await api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["store"] == "ok"
    assert f"cannot reach Temporal at 127.0.0.1:{port}" in ready.json()["temporal"]
    assert (await api.get("/healthz")).status_code == 200


# -- hrops temporal setup -----------------------------------------------------------------------


async def test_setup_creates_the_namespace_and_search_attributes_once(temporal_env, cluster: str) -> None:
    code, out = await hrops("temporal", "setup", "--retention-days", "7")
    assert code == 0, out
    assert f"namespace {cluster}: created (history kept 7 days)" in out
    names = [k.name for k in search_attributes.ALL]
    assert f"search attributes: registered {', '.join(names)}" in out
    listed = await temporal_env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=cluster)
    )
    assert set(names) <= set(listed.custom_attributes)

    # The setup job runs on every release: the second time it finds everything in place.
    code, out = await hrops("temporal", "setup")
    assert code == 0, out
    assert f"namespace {cluster}: exists" in out and "all registered already" in out


async def test_setup_says_when_temporal_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _free_port()
    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", f"127.0.0.1:{port}")
    reset_settings()
    code, out = await hrops("temporal", "setup", "--wait", "0")
    assert code == 1
    assert f"cannot reach Temporal at 127.0.0.1:{port}" in out and "HROPS_TEMPORAL_ADDRESS" in out
    assert len(out.strip().splitlines()) == 1


# -- hrops temporal health ----------------------------------------------------------------------


@activity.defn(name="deploy-test-noop")
async def _noop() -> None:
    """A stand-in activity: the health check only asks who polls the queue."""


async def test_health_needs_this_hosts_worker_on_the_queue(temporal_env, cluster: str) -> None:
    assert (await hrops("temporal", "setup"))[0] == 0
    code, out = await hrops("temporal", "health")
    assert code == 0 and "healthy" in out

    code, out = await hrops("temporal", "health", "--queue", task_queues.RPA)
    assert code == 1
    assert f"no worker on this host ({socket.gethostname()}) polls task queue {task_queues.RPA}" in out

    client = await Client.connect(_address(temporal_env), namespace=cluster)
    async with Worker(client, task_queue=task_queues.RPA, activities=[_noop]):
        for _ in range(20):  # the first poll reaches the server a moment after start
            code, out = await hrops("temporal", "health", "--queue", task_queues.RPA)
            if code == 0:
                break
            await asyncio.sleep(0.5)
        assert code == 0, out

    code, out = await hrops("temporal", "health", "--queue", "hrops-typo")
    assert code == 1 and f"unknown task queue hrops-typo; known: {', '.join(task_queues.ALL)}" in out
