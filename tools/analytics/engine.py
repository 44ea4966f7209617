"""Answer a typed query for one asker: scope, compile, run (row cap, timeout), then ratios,
comparison, top-N, shares and suppression of small sensitive groups. The answer carries its
provenance: metric and definition version, period, scope, population."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from pydantic import BaseModel
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tools.analytics.catalogue import MIN_GROUP, Catalogue, Sensitivity, load
from tools.analytics.compiler import LEARNING, PAY, Grouping, Scope, build
from tools.analytics.query import AnalyticsQuery, buckets, shifted
from tools.store import queries
from tools.store.identity import ALL_SEEING, Principal
from tools.store.models import Compensation, Employee, LearningRecord, OrgUnit, PayBand, Role

ROW_CAP = 10_000
TIMEOUT_S = 10.0
MAX_BUCKETS = 62  # a trend of more points than this is asked with a longer grain
ANALYST_ROLES = {*ALL_SEEING, Role.COMP_ANALYST}


class Refused(Exception):
    """The question cannot be answered for this asker, with the reason (and in Chinese when known)."""

    def __init__(self, reason: str, zh: str | None = None) -> None:
        super().__init__(reason)
        self.zh = zh

    def say(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else str(self)


class Row(BaseModel):
    period: str
    groups: dict[str, str] = {}
    values: dict[str, float | None]
    people: int
    compared: dict[str, float | None] = {}
    share: dict[str, float | None] = {}
    suppressed: bool = False


class Answer(BaseModel):
    query: AnalyticsQuery
    rows: list[Row]
    period: tuple[date, date]
    compare_period: tuple[date, date] | None = None
    scope: str
    scope_zh: str = ""
    version: int
    provenance: str
    periods: list[str] = []  # every bucket asked for, also those without a row (nothing happened)
    sql: list[str]
    notes: list[str] = []


def scope_for(session: Session, who: Principal, day: date) -> Scope:
    """Admin, HR ops and comp analysts: everyone. HRBP: their organisations. Manager: the units they head."""
    if who.has(*ANALYST_ROLES):
        return Scope(None, "the whole company", "全公司")
    if who.hrbp_org_ids:
        return Scope(
            frozenset(who.hrbp_org_ids), f"the organisations {who.username} covers as HRBP", "HRBP负责的组织"
        )
    if who.has(Role.MANAGER) and who.employee_id:
        heads = session.scalars(select(OrgUnit.id).where(OrgUnit.head_employee_id == who.employee_id)).all()
        ids = {i for h in heads for i in queries.subtree_ids(session, h)}
        if ids:
            units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(heads))).all()
            return Scope(
                frozenset(ids),
                " + ".join(sorted(u.name for u in units)),
                "、".join(sorted(u.name_zh or u.name for u in units)),
            )
        raise Refused(
            f"{who.username} heads no organisation unit, so there is no organisation to report on",
            f"{who.username} 没有负责的组织单位,因此没有可报告的组织",
        )
    raise Refused(
        "analytics answers are for managers, HRBPs and HR; ask your manager or HR",
        "数据分析只面向经理、HRBP 和 HR;请咨询你的经理或 HR",
    )


def _grouping(session: Session, roots: list[OrgUnit], scope_ids: frozenset[int] | None) -> Grouping:
    """Group units under the level below the root(s): `by department` in a division means its departments."""
    labels: dict[int, str] = {}
    for unit in session.scalars(select(OrgUnit)):
        if scope_ids is not None and unit.id not in scope_ids:
            continue
        path = [int(p) for p in unit.path.strip("/").split("/") if p]
        for root in roots:
            root_path = [int(p) for p in root.path.strip("/").split("/") if p]
            if path[: len(root_path)] == root_path:
                top = path[len(root_path)] if len(path) > len(root_path) else root.id
                labels[unit.id] = top
    codes = {
        u.id: u.code for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(set(labels.values()))))
    }
    return Grouping({k: codes[v] for k, v in labels.items()})


def _roots(
    session: Session, scope: Scope, org_code: str | None
) -> tuple[list[OrgUnit], frozenset[int] | None]:
    if org_code:
        unit = queries.org_by_code(session, org_code.upper())
        if unit is None or (scope.org_ids is not None and unit.id not in scope.org_ids):
            raise Refused(
                f"no org unit {org_code} in {scope.label}",
                f"{scope.label_zh or scope.label}中没有组织单位 {org_code}",
            )
        return [unit], frozenset(queries.subtree_ids(session, unit.id))
    if scope.org_ids is None:
        return list(session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))), None
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(scope.org_ids))).all()
    tops = [u for u in units if u.parent_id not in scope.org_ids]
    return tops, scope.org_ids


@contextmanager
def deadline(session: Session, seconds: float) -> Iterator[None]:
    """Stop a statement that runs longer than `seconds` (SQLite: progress handler; Postgres: statement_timeout)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        yield
        return
    raw = conn.connection.driver_connection
    stop = time.monotonic() + seconds
    raw.set_progress_handler(lambda: int(time.monotonic() > stop), 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def answer(
    session: Session, who: Principal, q: AnalyticsQuery, today: date, cat: Catalogue | None = None
) -> Answer:
    cat = cat or load()
    scope = scope_for(session, who, today)
    if missing := missing_data(session, q, cat):
        raise Refused(*missing)
    roots, ids = _roots(session, scope, q.org_unit)
    grouping = _grouping(session, roots, ids)
    dims = [d.value for d in q.by]
    filters = {k.value: v for k, v in q.filters.items()}
    learning_dims = [d for d in dims + list(filters) if cat.dimensions[d].learning_only]
    start, end = q.period.resolve(today, cat.fiscal_year_starts)
    if end > today:
        end = today
    sqls: list[str] = []
    dialect = "postgres" if session.bind and session.bind.dialect.name == "postgresql" else "sqlite"

    def run(measure: str, metric_name: str, s: date, e: date) -> dict[tuple, tuple[float | None, int]]:
        metric = cat.metrics[metric_name]
        if learning_dims and measure not in LEARNING:
            m, d = cat.metrics[metric_name], cat.dimensions[learning_dims[0]]
            raise Refused(f"{m.en} cannot be split by {d.en}", f"{m.zh}不能按{d.zh}拆分")
        stmt = build(metric, measure, s, e, dims, filters, ids, grouping, ROW_CAP)
        sql = stmt.sql(dialect=dialect)
        sqls.append(sql)
        with deadline(session, TIMEOUT_S):
            rows = session.execute(text(sql)).mappings().all()
        out = {}
        for r in rows:
            key = tuple(str(r[f"g{i}"]) for i in range(len(dims))) + (
                (r["currency"],) if "currency" in r else ()
            )
            out[key] = (float(r["value"]) if r["value"] is not None else None, int(r["people"]))
        return out

    def values(metric_name: str, s: date, e: date) -> dict[tuple, tuple[float | None, int]]:
        m = cat.metrics[metric_name]
        if m.kind != "ratio":
            return run(m.measure or "", metric_name, s, e)

        def part(name: str) -> dict[tuple, tuple[float | None, int]]:
            # a metric of the catalogue, or a compiler measure counted under this metric's name
            return values(name, s, e) if name in cat.metrics else run(name, metric_name, s, e)

        if m.per == "average_headcount":
            first, last = run("employees", "headcount", s, s), run("employees", "headcount", s, e)
            per = {
                k: (
                    ((first.get(k, (0, 0))[0] or 0) + (last.get(k, (0, 0))[0] or 0)) / 2,
                    last.get(k, (0, 0))[1],
                )
                for k in {*first, *last}
            }
        else:
            per = part(m.per or "")
        of = part(m.of or "")
        scale = 100.0 if m.unit == "percent" else 1.0
        return {
            k: ((of.get(k, (0, 0))[0] or 0) / p[0] * scale if p[0] else None, p[1]) for k, p in per.items()
        }

    periods = buckets(start, end, q.grain, cat.fiscal_year_starts)
    if len(periods) > MAX_BUCKETS:
        raise Refused(
            f"that is {len(periods)} {q.grain}s; ask for at most {MAX_BUCKETS} at a time (a shorter period or a longer grain)",
            f"共 {len(periods)} 个时间段;一次最多 {MAX_BUCKETS} 个(缩短时间范围或按更长的周期)",
        )
    rows: list[Row] = []
    compare_period = shifted(start, end, q.compare_to) if q.compare_to else None
    for label, s, e in periods:
        results = {m.value: values(m.value, s, e) for m in q.metrics}
        compared = (
            {m.value: values(m.value, *shifted(s, e, q.compare_to)) for m in q.metrics}
            if q.compare_to
            else {}
        )
        keys = sorted({k for r in results.values() for k in r})
        for key in keys:
            groups = dict(zip(dims, key[: len(dims)], strict=False))
            if len(key) > len(dims):
                groups["currency"] = key[-1]
            rows.append(
                Row(
                    period=label,
                    groups=groups,
                    values={m: results[m].get(key, (None, 0))[0] for m in results},
                    people=max(results[m].get(key, (None, 0))[1] for m in results),
                    compared={m: compared[m].get(key, (None, 0))[0] for m in compared},
                )
            )
    notes = _suppress(rows, q, cat)
    if q.percent_of_total:
        for m in (x.value for x in q.metrics):
            for label in {r.period for r in rows}:
                total = sum(r.values[m] or 0 for r in rows if r.period == label)
                for r in rows:
                    if r.period == label:
                        r.share[m] = (
                            (r.values[m] or 0) / total * 100 if total and r.values[m] is not None else None
                        )
    if q.order or q.top_n:
        first = q.metrics[0].value
        rows.sort(
            key=lambda r: (r.period, -(r.values[first] or 0) if q.order != "asc" else (r.values[first] or 0))
        )
        if q.top_n:
            kept: list[Row] = []
            for label in dict.fromkeys(r.period for r in rows):
                kept += [r for r in rows if r.period == label][: q.top_n]
            rows = kept
    last = periods[-1][0]
    population = sum(r.people for r in rows if r.period == last)
    names = ", ".join(cat.metrics[m.value].en for m in q.metrics)
    when = f"{start} to {end}" if start != end else f"on {end}"
    provenance = (
        f"{names} (catalogue v{cat.version}), {when}, scope: {scope.label}"
        + (f" / {q.org_unit.upper()}" if q.org_unit else "")
        + (f", {population} people in {last}" if q.grain else f", {population} people counted")
    )
    return Answer(
        query=q,
        rows=rows,
        period=(start, end),
        compare_period=compare_period,
        scope=scope.label,
        scope_zh=scope.label_zh or scope.label,
        version=cat.version,
        provenance=provenance,
        periods=[label for label, _, _ in periods],
        sql=sqls,
        notes=notes,
    )


def _measures(name: str, cat: Catalogue) -> set[str]:
    m = cat.metrics[name]
    if m.kind != "ratio":
        return {m.measure or ""}
    parts = {p for p in (m.of, m.per) if p}
    return set().union(*(_measures(p, cat) if p in cat.metrics else {p} for p in parts))


NEEDS_ZH = {
    "learning records": "学习记录",
    "pay records": "薪资记录",
    "pay bands": "薪资带宽",
    "genders": "性别数据",
}


def missing_data(session: Session, q: AnalyticsQuery, cat: Catalogue) -> tuple[str, str] | None:
    """Why the data in this store cannot answer the query (imported data may lack whole tables),
    or None. Said instead of answering with zeros."""
    measures = set().union(*(_measures(m.value, cat) for m in q.metrics))
    needs = {
        "learning records": bool(measures & LEARNING)
        or any(cat.dimensions[d.value].learning_only for d in [*q.by, *q.filters]),
        "pay records": bool(measures & PAY),
        "pay bands": "compa_ratio" in measures,
        "genders": "gender" in q.by or "gender" in q.filters,
    }
    probes = {
        "learning records": select(LearningRecord.id).limit(1),
        "pay records": select(Compensation.id).limit(1),
        "pay bands": select(PayBand.id).limit(1),
        "genders": select(Employee.id).where(Employee.gender.is_not(None)).limit(1),
    }
    absent = [what for what, needed in needs.items() if needed and session.scalar(probes[what]) is None]
    if absent:
        return (
            f"this HR store has no {' and no '.join(absent)}, so it cannot answer that",
            f"HR 数据中没有{'、'.join(NEEDS_ZH[a] for a in absent)},无法回答",
        )
    return None


def _suppress(rows: list[Row], q: AnalyticsQuery, cat: Catalogue) -> list[str]:
    """Sensitive figures of fewer than 5 people are hidden; when only one group in a period would
    be hidden, the next smallest goes too, so it cannot be worked out from a total."""
    sensitive = any(cat.metrics[m.value].sensitivity is Sensitivity.SENSITIVE for m in q.metrics) or any(
        cat.dimensions[d.value].sensitivity is Sensitivity.SENSITIVE for d in q.by
    )
    if not sensitive:
        return []
    hidden = 0
    for label in dict.fromkeys(r.period for r in rows):
        group = sorted((r for r in rows if r.period == label), key=lambda r: r.people)
        small = [r for r in group if r.people < MIN_GROUP]
        if len(small) == 1 and len(group) > 1:
            small.append(group[1])
        for r in small:
            r.suppressed = True
            r.values = dict.fromkeys(r.values)
            r.compared = dict.fromkeys(r.compared)
            hidden += 1
    return [f"{hidden} group(s) hidden: sensitive figures need at least {MIN_GROUP} people"] if hidden else []
