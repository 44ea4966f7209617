"""Workers: sandboxed workflow runner, one worker per task queue, graceful shutdown on SIGTERM,
and a real browser for the RPA queue."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from temporalio.client import Client
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from hrops.runtime.launcher import _worker_healthy
from hrops.runtime.processes import PidRecord
from hrops.settings import get_settings
from tools import browser
from workflows import task_queues
from workflows.worker import build_worker


async def test_workers_use_the_sandbox_and_split_by_queue(temporal_env, store_url) -> None:
    # A client of its own: workers built and never run stay registered with their client, and a
    # later test's worker on the shared client would be refused as a second one on its queue.
    client = await Client.connect(temporal_env.client.service_client.config.target_host)
    main = build_worker(client, task_queues.MAIN)
    rpa = build_worker(client, task_queues.RPA)
    assert isinstance(main.config()["workflow_runner"], SandboxedWorkflowRunner)
    assert [w.__name__ for w in main.config()["workflows"]] == [
        "RecordChangeWorkflow",
        "OnboardingWorkflow",
        "BulkChangeWorkflow",
        "LegacySyncWorkflow",
        "LearningDigestWorkflow",
        "CompResearchWorkflow",
        "CaseRemindersWorkflow",
    ]
    assert rpa.config()["workflows"] == []
    # Browser work only on the browser queue, and no more at once than there are browser contexts.
    assert {a.__name__ for a in rpa.config()["activities"]} >= {"push_record", "propose_mapping"}
    assert not {a.__name__ for a in main.config()["activities"]} & {"push_record", "propose_mapping"}
    assert rpa.config()["max_concurrent_activities"] == get_settings().legacy_contexts


async def test_sigterm_stops_a_worker_gracefully(temporal_env, store_url) -> None:
    target = temporal_env.client.service_client.config.target_host
    env = {**os.environ, "HROPS_TEMPORAL_ADDRESS": target, "HROPS_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hrops", "worker", "--queue", task_queues.RPA],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    rec = PidRecord(part="w", pid=proc.pid, marker="", address="", log="", started_at=0)
    healthy = _worker_healthy(task_queues.RPA, 2)
    settings = get_settings().model_copy(update={"temporal_address": target})
    deadline = time.monotonic() + 60  # a worker imports for seconds on a busy machine
    while not await healthy(settings, rec):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise AssertionError(f"worker never polled:\n{proc.stdout.read()}")
        await asyncio.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Beginning worker shutdown" in out and "Traceback" not in out


async def test_rpa_browser_renders_a_page() -> None:
    info = await browser.probe()
    assert info.version.split(".")[0].isdigit()
    # chromium or, when installed, Debian's lighter chromium-headless-shell (preferred)
    name = info.executable.rsplit("/", 1)[-1]
    assert name.startswith("chromium") or name == "playwright-managed"
