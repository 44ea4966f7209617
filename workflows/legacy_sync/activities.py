"""Activities of the browser task queue: push a record, survey a drifted form, save a mapping.

A legacy error crosses into the workflow as an `ApplicationError` whose `type` is the error kind
and whose details carry the page and the screenshot path (never personal values): the workflow
decides from the kind whether a person is needed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from agents.form_mapper import match_pages
    from hrops.clock import today
    from hrops.settings import get_settings
    from tools.legacy import catalog
    from tools.legacy.drift import Proposal, build_proposal, survey
    from tools.legacy.engine import PushResult
    from tools.legacy.errors import LegacyError
    from tools.legacy.evidence import Evidence
    from tools.legacy.mapping import MappingError, check_form_against_system, parse
    from tools.legacy.pool import shared_pool
    from tools.legacy.push import PushRequest, check_actor, engine_for, push
    from tools.legacy.record import load_employee
    from tools.store import audit
    from tools.store.db import session_scope


class SurveyRequest(BaseModel):
    system: str
    form: str
    employee_id: str
    actor: str
    evidence_folder: str


class SaveMapping(BaseModel):
    system: str
    form: str
    version: int
    yaml: str
    approved_by: str
    workflow_id: str


def _failure(e: LegacyError) -> ApplicationError:
    return ApplicationError(
        e.message,
        {"kind": e.kind, "page": e.page, "screenshot": e.screenshot},
        type=e.kind,
        non_retryable=not e.retryable,
    )


# A live push heartbeats this often whatever its step is doing, so the workflow's heartbeat timeout
# only has to catch a worker that is gone, not a slow page (each step has its own timeout).
BEAT_SECONDS = 2.0


class _Pulse:
    """Heartbeats naming the current step: at each step, and every BEAT_SECONDS while running."""

    def __init__(self) -> None:
        self.step = "start"

    def __call__(self, step: str) -> None:
        self.step = step
        activity.heartbeat(step)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async def beat() -> None:
            while True:
                await asyncio.sleep(BEAT_SECONDS)
                activity.heartbeat(self.step)

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()


@activity.defn(name="legacy.push")
async def push_record(req: PushRequest) -> PushResult:
    """Enter one record; heartbeats name the step, so a stuck page shows where it stuck."""
    info = activity.info()
    req = req.model_copy(update={"evidence_folder": f"{req.evidence_folder}/attempt-{info.attempt}"})
    pulse = _Pulse()
    try:
        async with pulse.running():
            return await push(req, on_step=pulse)
    except LegacyError as e:
        activity.logger.info("legacy push stopped", extra={"kind": e.kind, "page": e.page})
        raise _failure(e) from None
    except (MappingError, catalog.UnknownSystem) as e:
        # The mapping changed under a running push (a bad file, a clashing version): a person fixes it.
        raise ApplicationError(str(e), type="mapping", non_retryable=True) from None
    except Exception as e:
        # Not ours: its message may quote page content, so only its type leaves this process.
        activity.logger.warning("legacy push failed unexpectedly", extra={"error": type(e).__name__})
        raise ApplicationError(f"unexpected {type(e).__name__} in the push", type="internal") from None


@activity.defn(name="legacy.propose_mapping")
async def propose_mapping(req: SurveyRequest) -> Proposal:
    """Walk the changed form (creating nothing) and propose selectors for what no longer matches."""
    cfg = get_settings()
    loaded = catalog.form(req.system, req.form)
    with session_scope(cfg.db_url) as s:
        record = load_employee(s, req.employee_id, today())
    assert record is not None
    evidence = Evidence(cfg.evidence_dir / req.system, f"{req.evidence_folder}/survey")
    pulse = _Pulse()
    try:
        async with pulse.running(), shared_pool(cfg.legacy_contexts).slot() as slot:
            engine = engine_for(slot, loaded, evidence, pulse)
            surveys, picks = await survey(engine, record.model_dump(), match_pages)
    except LegacyError as e:
        raise _failure(e) from None
    return build_proposal(loaded.form, loaded.path.read_text(encoding="utf-8"), surveys, picks)


@activity.defn(name="legacy.save_mapping")
def save_mapping(req: SaveMapping) -> str:
    """Save an approved mapping version (checked again before it is written) and audit who approved."""
    try:
        check_actor(req.approved_by, "approve legacy mappings")
        mapping = parse(req.yaml, f"{req.system}/{req.form}.v{req.version}.yaml")
        if (mapping.kind, mapping.system, mapping.form, mapping.version) != (
            "form",
            req.system,
            req.form,
            req.version,
        ):
            raise ApplicationError("the approved mapping is not the proposed one", non_retryable=True)
        check_form_against_system(mapping, catalog.system(req.system), f"{req.form}.v{req.version}.yaml")  # type: ignore[arg-type]
        path = catalog.save_version(mapping, req.yaml)  # type: ignore[arg-type]
    except (LegacyError, MappingError, catalog.UnknownSystem) as e:
        # Retrying cannot change who approved or what the file says: a person decides.
        raise ApplicationError(str(e), type=getattr(e, "kind", "mapping"), non_retryable=True) from None
    with session_scope(get_settings().db_url, write=True) as s:
        audit.append(
            s,
            audit.AuditEvent(
                actor=req.approved_by,
                action="legacy.mapping_approved",
                entity_type="legacy_mapping",
                entity_id=f"{req.system}.{req.form}",
                workflow_id=req.workflow_id,
                details={"version": req.version, "file": path.name},
                event_key=f"legacy.mapping_approved:{req.system}.{req.form}.v{req.version}",
            ),
        )
    return json.dumps({"path": str(path)})
