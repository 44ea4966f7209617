"""Push one employee into one legacy form: mapping + HR record + browser + evidence + audit.

This is what the RPA activity calls. Everything it needs crosses the activity boundary as ids
(`PushRequest`); the record itself is read here, so personal data never enters workflow history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from hrops.clock import today
from hrops.settings import get_settings
from tools.legacy import catalog, credentials, journal
from tools.legacy.engine import Engine, PushResult
from tools.legacy.errors import DataError, LegacyError
from tools.legacy.evidence import Evidence
from tools.legacy.pool import BrowserPool, Slot, shared_pool
from tools.legacy.record import load_employee
from tools.store import audit
from tools.store.db import session_scope
from tools.store.identity import UnknownUser, resolve_principal
from tools.store.models import Role

# Who may type HR data into other systems on the company's behalf.
PUSH_ROLES = frozenset({Role.HR_OPS, Role.ADMIN})


class PushRequest(BaseModel):
    system: str
    form: str
    employee_id: str
    actor: str
    request_id: str | None = None
    workflow_id: str | None = None
    evidence_folder: str  # unique per push, e.g. the workflow id
    evidence: bool = True  # screenshots + HTML per step (off only for bulk loads that accept less proof)
    resolved_by: str | None = None  # who let this retry go ahead after a person was needed


class PushDenied(LegacyError):
    kind = "denied"


def base_url(system: str, default: str) -> str:
    return get_settings().legacy_urls.get(system, default)


def engine_for(
    slot: Slot,
    loaded: catalog.Loaded,
    evidence: Evidence,
    on_step: Callable[[str], None],
    **hooks: Any,
) -> Engine:
    """An engine for one push (or survey) of `loaded`, with this installation's URL and login."""
    cfg = get_settings()
    system = loaded.system.system
    return Engine(
        slot,
        loaded.system,
        loaded.form,
        base_url=base_url(system, loaded.system.base_url),
        credentials=credentials.for_system(system),
        evidence=evidence,
        step_timeout=cfg.legacy_step_timeout,
        on_step=on_step,
        submit_grace=cfg.legacy_submit_grace,
        **hooks,
    )


def check_actor(actor: str, doing: str = "push records into legacy systems") -> None:
    """Roles come from the HR store, not from whoever sent the request."""
    with session_scope(get_settings().db_url) as s:
        try:
            who = resolve_principal(s, actor, today())
        except UnknownUser as e:
            raise PushDenied(str(e)) from None
        if not who.has(*PUSH_ROLES):
            raise PushDenied(f"{actor} may not {doing} (needs hr_ops or admin)")


def _audit(req: PushRequest, action: str, details: dict[str, object]) -> None:
    with session_scope(get_settings().db_url, write=True) as s:
        audit.append(
            s,
            audit.AuditEvent(
                actor=req.actor,
                action=action,
                entity_type="employee",
                entity_id=req.employee_id,
                request_id=req.request_id,
                workflow_id=req.workflow_id,
                tool=f"legacy.{req.system}.{req.form}",
                details=details,
                event_key=f"{action}:{req.evidence_folder}:{details.get('reference', details.get('error', ''))}",
            ),
        )


async def push(
    req: PushRequest,
    *,
    pool: BrowserPool | None = None,
    on_step: Callable[[str], None] = lambda step: None,
    evidence: bool | None = None,
) -> PushResult:
    cfg = get_settings()
    evidence = req.evidence if evidence is None else evidence
    check_actor(req.actor)
    if req.resolved_by:
        check_actor(req.resolved_by, "resolve legacy pushes")
    loaded = catalog.form(req.system, req.form)
    with session_scope(cfg.db_url) as s:
        record = load_employee(s, req.employee_id, today())
    if record is None:
        raise DataError(f"no employee {req.employee_id} in the HR store")
    ev = Evidence(cfg.evidence_dir / req.system, req.evidence_folder, enabled=evidence)
    pool = pool or shared_pool(cfg.legacy_contexts)
    details: dict[str, object] = {
        "system": req.system,
        "form": req.form,
        "mapping_version": loaded.form.version,
        "evidence": f"{req.system}/{ev.folder}" if evidence else None,
    }
    if req.resolved_by:
        details["resolved_by"] = req.resolved_by
    # A create whose answer was lost (here or on another worker) stays in doubt until it is found;
    # one whose answer named the record is never typed again.
    record_id = (cfg.db_url, req.system, req.form, req.employee_id)
    journal_hooks: dict[str, Any] = {}
    if loaded.form.action == "create":
        # Journal writes happen mid-push: off the event loop, where other pushes run meanwhile.
        journal_hooks = {
            "journal": journal.open_submit(*record_id),
            "on_final_submit": lambda: asyncio.to_thread(journal.submitting, *record_id, req.workflow_id),
            "on_saved": lambda reference: asyncio.to_thread(journal.saved, *record_id, reference),
        }
    engine: Engine | None = None
    try:
        async with pool.slot() as slot:
            engine = engine_for(slot, loaded, ev, on_step, **journal_hooks)
            try:
                result = await engine.push(record.model_dump())
            except Exception:
                slot.broken = not slot.page or slot.page.is_closed()
                raise
    except LegacyError as e:
        if not e.retryable:
            if journal_hooks and engine is not None and not engine.unresolved:
                # Refused, or stopped before anything was sent: no record to wait for.
                journal.settle(*record_id, e.kind)
            _audit(req, "legacy.push_failed", {**details, "error": e.kind, "screenshot": e.screenshot})
        raise
    if journal_hooks:
        journal.settle(*record_id, result.outcome)
    _audit(
        req,
        f"legacy.{result.outcome}",
        {
            **details,
            "reference": result.reference,
            "verified_fields": result.verified,
            "attempts": result.attempts,
            "recovered": result.recovered,
        },
    )
    return result
