"""What can be asked, for the data present: every catalogue metric with its names, definition and
sensitivity, and whether the data in the asker's scope can answer it, and if not, why (the same
reasons a question gets: `engine.missing_data`). Shown by `hrops catalogue` and
`GET /api/analytics/catalogue`."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tools.analytics import snapshots
from tools.analytics.catalogue import Catalogue, load
from tools.analytics.engine import _roots, missing_data, scope_for
from tools.analytics.query import AnalyticsQuery
from tools.store.identity import Principal


class MetricCoverage(BaseModel):
    metric: str
    en: str
    zh: str
    definition: str
    unit: str
    sensitivity: str
    answerable: bool
    reason: str | None = None  # why not, in English
    reason_zh: str | None = None


class Coverage(BaseModel):
    scope: str
    scope_zh: str
    org_unit: str | None = None
    version: int
    snapshot: date | None = None  # the scope is a snapshot import: answered as of this day, no periods
    notes: list[str] = []
    metrics: list[MetricCoverage]


def coverage(
    session: Session, who: Principal, today: date, org_unit: str | None = None, cat: Catalogue | None = None
) -> Coverage:
    """Each metric, answerable or not (with the reason) for `who` (in `org_unit` of their scope).
    Raises `engine.Refused` when `who` may not ask data questions at all."""
    cat = cat or load()
    scope = scope_for(session, who, today)
    _, ids = _roots(session, scope, org_unit)
    data = snapshots.split(session, ids)
    rows = []
    for name, m in cat.metrics.items():
        why = missing_data(session, AnalyticsQuery.model_validate({"metrics": [name]}), cat, data)
        rows.append(
            MetricCoverage(
                metric=name,
                en=m.en,
                zh=m.zh,
                definition=m.definition,
                unit=m.unit,
                sensitivity=m.sensitivity.value,
                answerable=why is None,
                reason=why[0] if why else None,
                reason_zh=why[1] if why else None,
            )
        )
    return Coverage(
        scope=scope.label,
        scope_zh=scope.label_zh or scope.label,
        org_unit=org_unit.upper() if org_unit else None,
        version=cat.version,
        snapshot=data.only.as_of if data.only else None,
        notes=snapshots.notes(data, []),
        metrics=rows,
    )
