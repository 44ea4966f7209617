"""Prometheus metrics: `GET /metrics` on the API, and the Temporal SDK's own metrics on workers.

The API's figures are read at scrape time from where the product keeps them, not from one
process's memory, so every API replica reports the same numbers: workflow counts and pending
approvals from Temporal visibility, approval waits, legacy pushes and model calls from the HR
store (the append-only audit log, the notification outbox, the egress receipts). One read serves
every scrape within HROPS_METRICS_CACHE_SECONDS. A part that does not answer reports `..._up 0`
and leaves its figures out; the scrape itself never fails. Labels are types, statuses, rule and
step names, systems, agents and endpoints: never an employee, a person or a request id.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel
from temporalio.client import Client

from hrops import __version__
from hrops.logging import get_logger
from hrops.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = get_logger(__name__)

TEMPORAL_TIMEOUT = 3.0  # per visibility call; a scrape must answer well within Prometheus' 10 s
# Temporal's ExecutionStatus values and their label spelling.
STATUSES = {
    "Running": "running",
    "Completed": "completed",
    "Failed": "failed",
    "Canceled": "canceled",
    "Terminated": "terminated",
    "ContinuedAsNew": "continued_as_new",
    "TimedOut": "timed_out",
}
# Approval waits run from minutes to the auto-close after days.
WAIT_BUCKETS = (60, 300, 900, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400)
DECISIONS = {
    "request.approved": "approved",
    "request.approved_with_edits": "approved_with_edits",
    "request.rejected": "rejected",
    # What workflows/request_workflow.py writes for a rejection today (`request.{verdict}d`).
}
# The audit actions of tools/legacy/push.py: one per push that ended (retryable faults are retried).
PUSH_OUTCOMES = {
    "legacy.entered": "entered",
    "legacy.already_present": "already_present",
    "legacy.updated": "updated",
    "legacy.unchanged": "unchanged",
    "legacy.push_failed": "failed",
}


# -- what one scrape reports ---------------------------------------------------------------------


class WorkflowCount(BaseModel):
    workflow_type: str
    status: str
    count: int


class WaitHistogram(BaseModel):
    rule: str
    step: str
    buckets: list[int]  # cumulative, one per WAIT_BUCKETS bound
    count: int
    sum: float


class Counted(BaseModel):
    labels: dict[str, str]
    value: float


class StoreFigures(BaseModel):
    waits: list[WaitHistogram] = []
    decisions: list[Counted] = []
    pushes: list[Counted] = []
    model_calls: list[Counted] = []
    model_tokens: list[Counted] = []


class Snapshot(BaseModel):
    taken_at: float
    temporal_up: bool
    workflows: list[WorkflowCount] = []
    approvals_pending: int | None = None
    store_up: bool
    store: StoreFigures | None = None


# -- reading Temporal ----------------------------------------------------------------------------


def workflow_types() -> list[str]:
    """Every workflow the workers run. None sets a custom name, so the class name is the type."""
    from workflows import task_queues
    from workflows.worker import workflows_for

    return [w.__name__ for q in task_queues.ALL for w in workflows_for(q)]


async def temporal_figures(client: Client) -> tuple[list[WorkflowCount], int]:
    """Executions per type and status (visibility can group by ExecutionStatus only, so one count
    per type), and the requests waiting for an approver."""
    timeout = timedelta(seconds=TEMPORAL_TIMEOUT)

    async def per_type(name: str) -> list[WorkflowCount]:
        found = await client.count_workflows(
            f"WorkflowType = '{name}' GROUP BY ExecutionStatus", rpc_timeout=timeout
        )
        counts = dict.fromkeys(STATUSES.values(), 0)
        for group in found.groups:
            status = str(group.group_values[0]) if group.group_values else "unknown"
            label = STATUSES.get(status, status.lower())
            counts[label] = counts.get(label, 0) + group.count
        return [WorkflowCount(workflow_type=name, status=s, count=n) for s, n in counts.items()]

    per = await asyncio.gather(*(per_type(t) for t in workflow_types()))
    pending = await client.count_workflows(
        "ExecutionStatus = 'Running' AND HrPendingApprover IS NOT NULL", rpc_timeout=timeout
    )
    return [c for counts in per for c in counts], pending.count


# -- reading the store ---------------------------------------------------------------------------


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive UTC back


def _approval_waits(session: Session) -> tuple[list[WaitHistogram], list[Counted]]:
    """Seconds from an approval step being opened to its decision.

    The step opens with an `approval_requested` notification per approver, keyed
    `<workflow id>/<request id>/<step index>/requested:<username>` (workflows/approvals.py); its
    decision is a `request.approved|rejected|approved_with_edits` audit entry with the step, the
    rule and `decided_at`. A chain's decisions come in step order, so the n-th decision of a rule
    in a workflow closes step n. Undecided steps (waiting, expired, cancelled) are not observed.
    """
    from sqlalchemy import select

    from tools.store.models import AuditEntry, Notification

    opened: dict[tuple[str, str, int], dict[str, datetime]] = defaultdict(dict)
    for key, created in session.execute(
        select(Notification.event_key, Notification.created_at).where(
            Notification.kind == "approval_requested"
        )
    ):
        step_key, _, recipient = key.rpartition(":")
        parts = step_key.rsplit("/", 3)
        if len(parts) == 4 and parts[2].isdigit() and parts[3] == "requested":
            opened[(parts[0], parts[1], int(parts[2]))][recipient] = _utc(created)

    chains: dict[tuple[str, str, str], list[tuple[datetime, str, str, str]]] = defaultdict(list)
    verdicts: dict[tuple[str, str], int] = defaultdict(int)
    for action, workflow_id, request_id, actor, details in session.execute(
        select(
            AuditEntry.action,
            AuditEntry.workflow_id,
            AuditEntry.request_id,
            AuditEntry.actor,
            AuditEntry.details,
        ).where(AuditEntry.action.in_(DECISIONS))
    ):
        rule, step = str(details.get("rule", "")), str(details.get("step", ""))
        verdicts[(rule, DECISIONS[action])] += 1
        if workflow_id and request_id and details.get("decided_at"):
            decided = _utc(datetime.fromisoformat(details["decided_at"]))
            who = details.get("on_behalf_of") or actor
            chains[(workflow_id, request_id, rule)].append((decided, step, actor, who))

    waits: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (workflow_id, request_id, rule), decisions in chains.items():
        for index, (decided, step, actor, who) in enumerate(sorted(decisions)):
            asked = opened.get((workflow_id, request_id, index))
            if not asked:
                continue
            since = asked.get(actor) or asked.get(who) or min(asked.values())
            # The notification is written just after the step opens: a decision in that moment waited 0 s.
            waits[(rule, step)].append(max(0.0, (decided - since).total_seconds()))

    histograms = [
        WaitHistogram(
            rule=rule,
            step=step,
            buckets=[sum(1 for s in seconds if s <= bound) for bound in WAIT_BUCKETS],
            count=len(seconds),
            sum=sum(seconds),
        )
        for (rule, step), seconds in sorted(waits.items())
    ]
    counted = [Counted(labels={"rule": r, "verdict": v}, value=n) for (r, v), n in sorted(verdicts.items())]
    return histograms, counted


def store_figures(url: str) -> StoreFigures:
    from sqlalchemy import func, select

    from tools.store.db import session_scope
    from tools.store.models import AuditEntry, ModelReceipt

    with session_scope(url) as s:
        waits, decisions = _approval_waits(s)
        pushes = []
        for tool, action, n in s.execute(
            select(AuditEntry.tool, AuditEntry.action, func.count())
            .where(AuditEntry.action.in_(PUSH_OUTCOMES))
            .group_by(AuditEntry.tool, AuditEntry.action)
        ):
            _, system, form = (str(tool or "").split(".", 2) + ["", "", ""])[:3]  # legacy.<system>.<form>
            pushes.append(
                Counted(labels={"system": system, "form": form, "outcome": PUSH_OUTCOMES[action]}, value=n)
            )
        calls, tokens = [], []
        for agent, endpoint, n, sent, received in s.execute(
            select(
                ModelReceipt.agent,
                ModelReceipt.endpoint,
                func.count(),
                func.coalesce(func.sum(ModelReceipt.input_tokens), 0),
                func.coalesce(func.sum(ModelReceipt.output_tokens), 0),
            )
            .group_by(ModelReceipt.agent, ModelReceipt.endpoint)
            .order_by(ModelReceipt.agent, ModelReceipt.endpoint)
        ):
            labels = {"agent": agent, "endpoint": endpoint}
            calls.append(Counted(labels=labels, value=n))
            tokens.append(Counted(labels={**labels, "direction": "input"}, value=sent))
            tokens.append(Counted(labels={**labels, "direction": "output"}, value=received))
    return StoreFigures(
        waits=waits, decisions=decisions, pushes=pushes, model_calls=calls, model_tokens=tokens
    )


# -- one snapshot per cache period ---------------------------------------------------------------

_cache: dict[tuple[str, str, str], Snapshot] = {}
# One lock per event loop (an asyncio.Lock belongs to the loop it first waited on).
_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


async def _client(request: Request, settings: Settings) -> Client | None:
    """The API's Temporal client, connected on first use; None while Temporal does not answer."""
    from hrops.temporal_client import TemporalUnavailable, connect

    client = getattr(request.app.state, "client", None)
    if client is None:
        try:
            client = request.app.state.client = await asyncio.wait_for(connect(settings), TEMPORAL_TIMEOUT)
        except (TemporalUnavailable, TimeoutError):
            return None
    return client


async def snapshot(request: Request, settings: Settings) -> Snapshot:
    key = (settings.db_url, settings.temporal_target, settings.temporal_namespace)
    lock = _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        cached = _cache.get(key)
        if cached and time.monotonic() - cached.taken_at < settings.metrics_cache_seconds:
            return cached
        taken = time.monotonic()
        workflows: list[WorkflowCount] = []
        pending = None
        client = await _client(request, settings)
        if client is not None:
            try:
                workflows, pending = await asyncio.wait_for(temporal_figures(client), 2 * TEMPORAL_TIMEOUT)
            except Exception as e:  # noqa: BLE001 - a scrape reports Temporal down, never fails
                log.warning("metrics: temporal visibility did not answer", error=type(e).__name__)
                client = None
        try:
            store = await asyncio.to_thread(store_figures, settings.db_url)
        except Exception as e:  # noqa: BLE001 - the same for the store
            log.warning("metrics: the HR store did not answer", error=type(e).__name__)
            store = None
        _cache[key] = Snapshot(
            taken_at=taken,
            temporal_up=client is not None,
            workflows=workflows,
            approvals_pending=pending,
            store_up=store is not None,
            store=store,
        )
        return _cache[key]


# -- exposition ----------------------------------------------------------------------------------


def _counter(name: str, doc: str, rows: list[Counted]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=list(rows[0].labels) if rows else [])
    for row in rows:
        family.add_metric(list(row.labels.values()), row.value)
    return family


class SnapshotCollector(Collector):
    """Turns one snapshot into metric families (prometheus_client calls collect() to render)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterator[Metric]:
        snap = self.snap
        info = GaugeMetricFamily(
            "hrops_build_info", "The product version serving these metrics.", labels=["version"]
        )
        info.add_metric([__version__], 1)
        yield info
        yield GaugeMetricFamily(
            "hrops_temporal_up",
            "1 when Temporal visibility answered this scrape.",
            value=int(snap.temporal_up),
        )
        yield GaugeMetricFamily(
            "hrops_store_up", "1 when the HR store answered this scrape.", value=int(snap.store_up)
        )
        if snap.temporal_up:
            runs = GaugeMetricFamily(
                "hrops_workflows",
                "Workflow executions Temporal visibility holds, per type and status (closed ones until "
                "the namespace's retention removes them).",
                labels=["workflow_type", "status"],
            )
            for w in snap.workflows:
                runs.add_metric([w.workflow_type, w.status], w.count)
            yield runs
            yield GaugeMetricFamily(
                "hrops_approvals_pending",
                "Requests waiting for an approver's decision now.",
                value=snap.approvals_pending or 0,
            )
        if snap.store is None:
            return
        waits = HistogramMetricFamily(
            "hrops_approval_wait_seconds",
            "Seconds from an approval step being opened to its decision, per rule and step.",
            labels=["rule", "step"],
        )
        for h in snap.store.waits:
            buckets = [(str(float(b)), n) for b, n in zip(WAIT_BUCKETS, h.buckets, strict=True)]
            waits.add_metric([h.rule, h.step], [*buckets, ("+Inf", h.count)], h.sum)
        yield waits
        yield _counter(
            "hrops_approval_decisions", "Approval decisions, per rule and verdict.", snap.store.decisions
        )
        yield _counter(
            "hrops_legacy_pushes",
            "Pushes into legacy systems (RPA) that ended, per system, form and outcome.",
            snap.store.pushes,
        )
        yield _counter("hrops_model_calls", "Model calls, per agent and endpoint.", snap.store.model_calls)
        yield _counter(
            "hrops_model_tokens",
            "Model tokens, per agent, endpoint and direction (input: sent, output: received).",
            snap.store.model_tokens,
        )


def render(snap: Snapshot) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snap))
    return generate_latest(registry)


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text format, without sign-in: counts by type and status only (HROPS_METRICS_ENABLED)."""
    settings = get_settings()
    if not settings.metrics_enabled:
        raise HTTPException(404, "metrics are off (HROPS_METRICS_ENABLED=false)")
    return Response(render(await snapshot(request, settings)), media_type=CONTENT_TYPE_LATEST)


# -- workers: the Temporal SDK's own metrics -----------------------------------------------------


def worker_metrics_address(settings: Settings, queues: list[str], port: int | None = None) -> str | None:
    """Where this worker process serves Prometheus metrics, or None when off. Without an explicit
    port, HROPS_WORKER_METRICS_PORT plus the position of the first queue served, so one machine's
    workers (one per queue, as `hrops up` starts them) each get their own port."""
    from workflows import task_queues

    if port is None:
        if not settings.worker_metrics_port:
            return None
        port = settings.worker_metrics_port + min(task_queues.ALL.index(q) for q in queues)
    host = settings.worker_metrics_host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def worker_runtime(address: str):  # noqa: ANN201 - temporalio.runtime.Runtime, imported lazily
    """A Temporal runtime exporting the SDK's metrics (task-queue latency, workflow and activity
    task counts and durations: `temporal_*`) at http://<address>/metrics. Raises ValueError when
    the port is taken."""
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
