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

from tools.analytics import differencing, snapshots
from tools.analytics.catalogue import MIN_GROUP, Catalogue, Sensitivity, load
from tools.analytics.compiler import LEARNING, PAY, STOCK, Grouping, Scope, batch_key, build
from tools.analytics.query import AnalyticsQuery, buckets, shifted
from tools.store import queries, row_security
from tools.store.identity import ALL_SEEING, Principal
from tools.store.models import (
    Compensation,
    Employee,
    EmployeeFact,
    JobAssignment,
    LearningRecord,
    OrgUnit,
    PayBand,
    Role,
)

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
    snapshot: date | None = None  # answered as of this snapshot import (no period: see snapshots.py)


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
    roots, ids = _roots(session, scope, q.org_unit)
    data = snapshots.split(session, ids)
    if missing := missing_data(session, q, cat, data):
        raise Refused(*missing)
    ids, snap = data.ids, data.only
    dims = [d.value for d in q.by]
    filters = {k.value: v for k, v in q.filters.items()}
    # the roll-up table is only built when the answer is split or filtered by org unit
    grouping = _grouping(session, roots, ids) if "org_unit" in [*dims, *filters] else Grouping({})
    learning_dims = [d for d in dims + list(filters) if cat.dimensions[d].learning_only]
    start, end = q.period.resolve(today, cat.fiscal_year_starts)
    if end > today:
        end = today
    if snap:  # no period was asked: leavers on the snapshot's day, stocks on the day before (run)
        start = end = snap.as_of
    sqls: list[str] = []
    dialect = "postgres" if session.bind and session.bind.dialect.name == "postgresql" else "sqlite"

    # Measures of the query by batch key: learning measures read from the same records are
    # fetched by one statement (hours with completions, enrolments with their completions).
    batches: dict[tuple[str, bool], list[str]] = {}
    for m in sorted(set().union(*(_measures(x.value, cat) for x in q.metrics))):
        if key := batch_key(m):
            batches.setdefault(key, []).append(m)
    fetched: dict[tuple[str, str, date, date], dict[tuple, tuple[float | None, int]]] = {}

    def run(measure: str, metric_name: str, s: date, e: date) -> dict[tuple, tuple[float | None, int]]:
        if snap and measure in STOCK:  # everyone in the file, leavers included
            s = e = snap.population_day
        # a learning statement does not depend on the metric; others do (leaver type, average or median)
        which = "" if measure in LEARNING else metric_name
        if (measure, which, s, e) in fetched:
            return fetched[(measure, which, s, e)]
        metric = cat.metrics[metric_name]
        if learning_dims and measure not in LEARNING:
            m, d = cat.metrics[metric_name], cat.dimensions[learning_dims[0]]
            raise Refused(f"{m.en} cannot be split by {d.en}", f"{m.zh}不能按{d.zh}拆分")
        key = batch_key(measure)
        also = tuple(x for x in batches.get(key, []) if x != measure) if key else ()
        stmt = build(metric, measure, s, e, dims, filters, ids, grouping, ROW_CAP, also=also)
        sql = stmt.sql(dialect=dialect)
        sqls.append(sql)
        with deadline(session, TIMEOUT_S), row_security.limited_to(session, ids):
            rows = session.execute(text(sql)).mappings().all()
        for x in (measure, *also):
            fetched[(x, which, s, e)] = {}
        for r in rows:
            group = tuple(str(r[f"g{i}"]) for i in range(len(dims))) + (
                (r["currency"],) if "currency" in r else ()
            )
            for x in (measure, *also):
                v = r["value" if x == measure else f"value_{x}"]
                fetched[(x, which, s, e)][group] = (float(v) if v is not None else None, int(r["people"]))
        return fetched[(measure, which, s, e)]

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
    if snap:
        periods = [(f"snapshot {snap.as_of}", start, end)]
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
    notes = _suppress(rows, q, cat) + snapshots.notes(data, [m.value for m in q.metrics])

    def members(metric_name: str, s: date, e: date) -> dict[tuple, set[str]]:
        """The people behind each group of a metric (its denominator's for a ratio)."""
        measure = _base_measure(metric_name, cat)
        stmt = build(
            cat.metrics[metric_name], measure, s, e, dims, filters, ids, grouping, ROW_CAP, members=True
        )
        out: dict[tuple, set[str]] = {}
        with deadline(session, TIMEOUT_S), row_security.limited_to(session, ids):
            for r in session.execute(text(stmt.sql(dialect=dialect))).mappings():
                group = tuple(str(v) for k, v in r.items() if k != "member")
                out.setdefault(group, set()).add(str(r["member"]))
        return out

    notes += differencing.guard(session, who.username, q, cat, rows, periods, members)
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
    if snap:
        when = f"as of the {snap.name} snapshot of {snap.as_of}"
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
        snapshot=snap.as_of if snap else None,
    )


def _base_measure(name: str, cat: Catalogue) -> str:
    """The measure whose people a figure is about: its own, or its denominator's for a ratio."""
    m = cat.metrics[name]
    if m.kind != "ratio":
        return m.measure or ""
    per = m.per or ""
    if per == "average_headcount":
        return "employees"
    return _base_measure(per, cat) if per in cat.metrics else per


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
    "leaver types": "离职类型",
}


def _parts(name: str, cat: Catalogue) -> set[str]:
    """The metric and the catalogue metrics a ratio is made of."""
    m = cat.metrics[name]
    return {name}.union(*(_parts(p, cat) for p in (m.of, m.per) if p in cat.metrics))


def missing_data(
    session: Session, q: AnalyticsQuery, cat: Catalogue, data: snapshots.DataScope | None = None
) -> tuple[str, str] | None:
    """Why the data counted cannot answer the query (imported data may lack whole tables; a snapshot
    has no event dates), or None. Said instead of answering with zeros. The whole store is probed,
    except where `data` sets snapshots apart: then the units it counts."""
    data = data or snapshots.DataScope(None)
    measures = set().union(*(_measures(m.value, cat) for m in q.metrics))
    parts = [cat.metrics[p] for m in q.metrics for p in _parts(m.value, cat)]
    # an employee fact is named after the first metric that reads it ("training times last year")
    facts = {
        f: next(m for m in cat.metrics.values() if m.fact == f) for f in {m.fact for m in parts if m.fact}
    }
    needs = {
        "learning records": bool(measures & LEARNING)
        or any(cat.dimensions[d.value].learning_only for d in [*q.by, *q.filters]),
        "pay records": bool(measures & PAY),
        "pay bands": "compa_ratio" in measures,
        "genders": "gender" in q.by or "gender" in q.filters,
        "leaver types": any("leaver_type" in m.filter for m in parts),
        **{f"{m.en} figures": True for m in facts.values()},
    }
    probes = {
        "learning records": (select(LearningRecord.id), LearningRecord.employee_id),
        "pay records": (select(Compensation.id), Compensation.employee_id),
        "pay bands": (select(PayBand.id), None),
        "genders": (select(Employee.id).where(Employee.gender.is_not(None)), Employee.id),
        "leaver types": (select(Employee.id).where(Employee.leaver_type.is_not(None)), Employee.id),
        **{
            f"{m.en} figures": (
                select(EmployeeFact.id).where(EmployeeFact.name == f),
                EmployeeFact.employee_id,
            )
            for f, m in facts.items()
        },
    }
    zh = {**NEEDS_ZH, **{f"{m.en} figures": f"{m.zh}数据" for m in facts.values()}}
    ids = data.ids if data.only or data.left_out else None

    def absent(what: str) -> bool:
        stmt, person = probes[what]
        if ids is not None and person is None:  # pay bands for the jobs counted
            on = (JobAssignment.level == PayBand.level) & (JobAssignment.location == PayBand.location)
            stmt = stmt.join(JobAssignment, on).where(JobAssignment.org_unit_id.in_(ids))
        elif ids is not None:
            held = select(JobAssignment.id).where(
                JobAssignment.employee_id == person, JobAssignment.org_unit_id.in_(ids)
            )
            stmt = stmt.where(held.exists())
        return session.scalar(stmt.limit(1)) is None

    if lacking := [what for what, needed in needs.items() if needed and absent(what)]:
        en, cn = " and no ".join(lacking), "、".join(zh[a] for a in lacking)
        if data.only:
            return (
                f"the {data.only.name} data has no {en}, so it cannot answer that",
                f"{data.only.name_zh}的数据中没有{cn},无法回答",
            )
        if data.left_out:
            apart = "; ".join(
                f"{s.name} is a snapshot: ask about org unit {s.code} on its own" for s in data.left_out
            )
            return (
                f"the data counted has no {en}, so it cannot answer that ({apart})",
                f"统计范围内的数据中没有{cn},无法回答(快照单独提问:{'、'.join(s.code for s in data.left_out)})",
            )
        return (
            f"this HR store has no {en}, so it cannot answer that",
            f"HR 数据中没有{cn},无法回答",
        )
    return snapshots.refusal(data, q, measures, cat)


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
