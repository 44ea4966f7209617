"""Snapshot imports: files that are one day's picture without event dates (a mapping with
`snapshot: true`, such as the IBM HR sample). Their hire and leaving dates are worked out from the
as-of date, so a period ("last quarter") or a trend over them would report made-up events.

The rule the engine applies:
- a scope holding nothing but one snapshot's org units is answered as of the snapshot, and only
  without a period: everyone in the file (leavers included: they left on the as-of date, so they
  are counted on the day before it), leavers = those the file marks as gone;
- anywhere else (a company with a snapshot landed under it) the snapshot's units are left out, and
  the answer says so; the company's own answers stay exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.analytics.catalogue import Catalogue
from tools.analytics.parser import COMPARE, GRAIN, RELATIVE
from tools.analytics.query import AnalyticsQuery
from tools.store import queries
from tools.store.models import JobAssignment, OrgUnit

# Measures a snapshot can answer: stocks as of it, its facts, and its leavers (the file's flag).
SNAPSHOT_MEASURES = {
    "employees",
    "average_headcount",
    "tenure_years",
    "base_pay",
    "compa_ratio",
    "fact",
    "leavers",
}


@dataclass(frozen=True)
class Snapshot:
    code: str  # the org unit it landed under
    name: str
    name_zh: str
    as_of: date
    unit_ids: frozenset[int]
    derived: tuple[str, ...]  # fields worked out from the as-of date

    @property
    def population_day(self) -> date:
        """The day everyone in the file was employed: leavers left on the as-of date."""
        return self.as_of - timedelta(days=1)

    def says(self, en: str, zh: str) -> tuple[str, str]:
        return (
            f"the {self.name} data is a snapshot as of {self.as_of} without event dates, so {en}",
            f"{self.name_zh}的数据是截至 {self.as_of} 的快照,没有事件日期,因此{zh}",
        )


@dataclass(frozen=True)
class DataScope:
    """The org units a question counts, after snapshots are taken out of a mixed scope."""

    ids: frozenset[int] | None
    only: Snapshot | None = None  # the scope is this snapshot: answered as of it
    left_out: tuple[Snapshot, ...] = ()  # snapshots in a mixed scope, not counted
    several: tuple[Snapshot, ...] = ()  # the scope is made of more than one snapshot


def recorded(session: Session) -> list[Snapshot]:
    """Every snapshot import whose landing unit still exists (one per landing unit and as-of date)."""
    out: dict[tuple[str, date], Snapshot] = {}
    for meta in queries.recorded_imports(session):
        code = meta.get("landed_under")
        if not meta.get("snapshot") or not code:
            continue
        unit = queries.org_by_code(session, code)
        as_of = date.fromisoformat(meta["as_of"])
        if unit is None or (code, as_of) in out:
            continue
        out[(code, as_of)] = Snapshot(
            code=code,
            name=unit.name,
            name_zh=unit.name_zh or unit.name,
            as_of=as_of,
            unit_ids=frozenset(queries.subtree_ids(session, unit.id)),
            derived=tuple(meta.get("derived", [])),
        )
    return list(out.values())


def split(session: Session, ids: frozenset[int] | None) -> DataScope:
    """Which snapshot (if any) the scope `ids` (None: everything) is, or which it must leave out."""
    inside = [s for s in recorded(session) if ids is None or s.unit_ids & ids]
    if not inside:
        return DataScope(ids)
    snap_units = frozenset().union(*(s.unit_ids for s in inside))
    dated = select(JobAssignment.id).where(JobAssignment.org_unit_id.not_in(snap_units))
    if ids is not None:
        dated = dated.where(JobAssignment.org_unit_id.in_(ids))
    if session.scalar(dated.limit(1)) is None:  # nobody in the scope but the snapshot's people
        if len(inside) == 1:
            return DataScope(ids, only=inside[0])
        return DataScope(ids, several=tuple(inside))
    everything = ids if ids is not None else frozenset(session.scalars(select(OrgUnit.id)))
    return DataScope(everything - snap_units, left_out=tuple(inside))


def refusal(data: DataScope, q: AnalyticsQuery, measures: set[str], cat: Catalogue) -> tuple[str, str] | None:
    """Why a snapshot cannot answer `q` (a period, a trend, a comparison, events), or None."""
    if data.several:
        listed = ", ".join(f"{s.code} ({s.as_of})" for s in data.several)
        return (
            f"the scope holds several snapshots ({listed}) without event dates; ask about one of them "
            "(name its org unit)",
            f"范围内有多个没有事件日期的快照({listed});请针对其中一个提问(指明其组织单位)",
        )
    snap = data.only
    if snap is None:
        return None
    if asked := _time_asked(q):
        en, zh = asked
        return snap.says(
            f"'{en}' cannot be answered; ask without a period (the answer is as of the snapshot)",
            f"无法回答「{zh}」;请不带时间范围提问(按快照作答)",
        )
    if measures - SNAPSHOT_MEASURES:  # hires, learning events: a snapshot has no dates for them
        metrics = [cat.metrics[m.value] for m in q.metrics]
        return snap.says(
            f"{' and '.join(m.en for m in metrics)} cannot be counted",
            f"无法统计{'、'.join(m.zh for m in metrics)}",
        )
    return None


def _time_asked(q: AnalyticsQuery) -> tuple[str, str] | None:
    """The period, trend or comparison the question asks for, in English and Chinese; None when the
    question names none (the query's default period is then not the asker's)."""
    if q.compare_to:
        en, zh = COMPARE[q.compare_to.value]
        return en[0], zh[0]
    if q.grain:
        en, zh = GRAIN[q.grain.value]
        return en[0], zh[0]
    if "period" not in q.model_fields_set:
        return None
    p = q.period
    if p.relative is None:
        return f"{p.start} to {p.end}", f"{p.start} 至 {p.end}"
    en, zh = RELATIVE[p.relative.value]
    return en[0], zh[0]


def notes(data: DataScope, metrics: list[str]) -> list[str]:
    """What an answer must say about snapshots: how it was counted, or what it left out."""
    out = []
    if snap := data.only:
        out.append(
            f"as of the {snap.name} snapshot ({snap.as_of}): everyone in the file, leavers included "
            f"(counted on {snap.population_day}, their last day)"
        )
        if "attrition_rate" in metrics:
            out.append("snapshot attrition rate = leavers in the file / everyone in the file")
        if "average_tenure" in metrics and "hire_date" in snap.derived:
            out.append("tenure is approximate: hire dates were worked out from whole years in the file")
    for s in data.left_out:
        out.append(
            f"not counted: {s.name} ({s.code}), a snapshot as of {s.as_of} without event dates; "
            f"ask about org unit {s.code} on its own"
        )
    return out
