"""Which legacy forms an applied record change must be pushed to again (from the form mappings).

Only systems the product entered the employee into (a settled create with the system's reference
in the submission journal) are kept in step: an update of a record the system never had would
only open a task for a person."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import select

from hrops.settings import get_settings
from tools.approvals.rules import ChangeType
from tools.hr.access import store
from tools.legacy import catalog
from tools.registry import ALL_ROLES, Risk, ToolContext, tool
from tools.store.models import LegacySubmission


class TargetsQuery(BaseModel):
    change: ChangeType
    employee_id: str


class LegacyTarget(BaseModel):
    system: str
    form: str
    action: str = "update"  # create: enter the record once; update: bring it in step


class LegacyTargets(BaseModel):
    targets: list[LegacyTarget]
    skipped: list[str] = Field([], description="Systems left alone, and why")


@tool("legacy.targets_for_change", risk=Risk.READ, roles=ALL_ROLES)
def targets_for_change(ctx: ToolContext, args: TargetsQuery) -> LegacyTargets:
    """The legacy forms (of the systems in HROPS_LEGACY_SYNC) that list this change under `on_changes`."""
    found, skipped = [], []
    for system in get_settings().legacy_sync:
        mappings = [catalog.form(system, f).form for f in catalog.forms(system)]
        forms = [m for m in mappings if args.change in m.on_changes]
        creates = [m.form for m in forms if m.action == "create"]
        found += [
            LegacyTarget(system=system, form=f, action="create") for f in creates
        ]  # entering is the point
        forms = [m.form for m in forms if m.action == "update"]
        if not forms:
            continue
        with store() as session:
            known = session.scalar(
                select(LegacySubmission.reference)
                .where(
                    LegacySubmission.system == system,
                    LegacySubmission.employee_id == args.employee_id,
                    LegacySubmission.reference.is_not(None),
                )
                .limit(1)
            )
        if known is None:
            skipped.append(f"{system}: {args.employee_id} was never entered there by this product")
            continue
        found += [LegacyTarget(system=system, form=f) for f in forms]
    return LegacyTargets(targets=found, skipped=skipped)
