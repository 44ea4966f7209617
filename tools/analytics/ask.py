"""Ask a data question in English or Chinese: parse it offline, answer it through the semantic layer
for the asker's scope, say it in the question's language, or refuse with the reason and the
nearest questions that can be answered (and keep the refused question so coverage can grow)."""

from __future__ import annotations

import time
from datetime import date

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hrops.clock import now
from tools.analytics.catalogue import Catalogue, load
from tools.analytics.chart import ChartSpec, chart_for, one_currency
from tools.analytics.engine import Answer, Refused, answer, scope_for
from tools.analytics.parser import Parsed, parse
from tools.analytics.query import AnalyticsQuery
from tools.store import audit, queries
from tools.store.identity import Principal
from tools.store.models import JobAssignment, OrgUnit, UnansweredQuestion

CANNOT = {"en": "I can't answer that yet", "zh": "这个问题我还不能回答"}
UNITS_ZH = {
    "people": "人",
    "hours": "小时",
    "percent": "%",
    "years": "年",
    "enrolments": "人次",
    "completions": "人次",
    "trainings": "次",
}


class Asked(BaseModel):
    question: str
    parsed: Parsed
    answer: Answer | None = None
    text: str  # the answer, or the refusal, in the question's language
    refused: bool = False
    chart: ChartSpec | None = None  # decided from the typed query: a line over time, bars across groups


VALUES_TTL = 60.0  # seconds a scope's filter words are reused while the jobs and units are unchanged
_values_cache: dict[tuple, tuple[float, dict[str, list[str]]]] = {}


def values_in_scope(session: Session, who: Principal, day: date) -> dict[str, list[str]]:
    """The words the parser may read as filters: locations, job families, levels, org unit codes.
    Reused for a minute while no job or unit row was added (a change to a job adds one), so a
    question does not pay a scan of every job for them; a word missed meanwhile is refused, never
    guessed."""
    try:
        scope = scope_for(session, who, day)
    except Refused:
        return {}
    marks = session.execute(
        select(
            select(func.max(JobAssignment.id)).scalar_subquery(),
            select(func.max(OrgUnit.id)).scalar_subquery(),
        )
    ).one()
    key = (str(session.get_bind().url), scope.org_ids, day, tuple(marks))
    hit = _values_cache.get(key)
    if hit and time.monotonic() - hit[0] < VALUES_TTL:
        return hit[1]
    names = ("location", "job_family", "level")
    # one pass over the jobs in force for all three (the combinations are few)
    stmt = select(*(getattr(JobAssignment, n) for n in names)).where(*queries.in_force(JobAssignment, day))
    if scope.org_ids is not None:
        stmt = stmt.where(JobAssignment.org_unit_id.in_(scope.org_ids))
    combos = session.execute(stmt.distinct()).all()
    out = {n: sorted({c[i] for c in combos}) for i, n in enumerate(names)}
    units = select(OrgUnit.code)
    if scope.org_ids is not None:
        units = units.where(OrgUnit.id.in_(scope.org_ids))
    out["org_unit"] = sorted(session.scalars(units))
    if len(_values_cache) > 256:
        _values_cache.clear()
    _values_cache[key] = (time.monotonic(), out)
    return out


def ask(session: Session, who: Principal, question: str, today: date, cat: Catalogue | None = None) -> Asked:
    """Offline: the parser reads the question."""
    cat = cat or load()
    return respond(
        session, who, question, parse(question, values_in_scope(session, who, today), cat), today, cat
    )


def respond(
    session: Session,
    who: Principal,
    question: str,
    parsed: Parsed,
    today: date,
    cat: Catalogue | None = None,
    reading: AnalyticsQuery | None = None,
) -> Asked:
    """Answer `reading` (a model's typed query) or the parser's; say so when they differ."""
    cat = cat or load()
    lang = parsed.language
    query = reading or parsed.query
    if query is None:
        _keep(session, who, parsed, question)
        nearest = "; ".join(f'"{q}"' for q in parsed.nearest)
        text = f"{CANNOT[lang]}: {parsed.reason}. " + (
            f"I can answer, for example: {nearest}" if lang == "en" else f"可以这样问:{nearest}"
        )
        return Asked(question=question, parsed=parsed, text=text, refused=True)
    preface = ""
    if reading is not None and reading != parsed.query:
        preface = (
            ("我的理解是:" if lang == "zh" else "I read this as: ") + describe(reading, lang, cat) + ". "
        )
    try:
        result = answer(session, who, query, today, cat)
    except Refused as e:
        return Asked(
            question=question, parsed=parsed, text=f"{preface}{CANNOT[lang]}: {e.say(lang)}", refused=True
        )
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="analytics.answered",
            details={
                "metrics": [m.value for m in query.metrics],
                "by": [d.value for d in query.by],
                "scope": result.scope,
                "rows": len(result.rows),
                "suppressed": sum(r.suppressed for r in result.rows),
                "read_by": "model" if reading is not None else "parser",
                "parser_agreed": reading is None or reading == parsed.query,
            },
        ),
    )
    return Asked(
        question=question,
        parsed=parsed,
        answer=result,
        text=preface + narrative(result, lang, cat),
        chart=chart_for(result, cat, lang),
    )


def describe(q: AnalyticsQuery, lang: str, cat: Catalogue) -> str:
    """A typed query in words: what the answer below is an answer to."""
    zh = lang == "zh"
    names = [cat.metrics[m.value].zh if zh else cat.metrics[m.value].en for m in q.metrics]
    parts = ["、".join(names) if zh else " and ".join(names)]
    if q.by:
        dims = [cat.dimensions[d.value].zh if zh else cat.dimensions[d.value].en for d in q.by]
        parts.append(("按" + "、".join(dims)) if zh else "by " + " and ".join(dims))
    for dim, values in q.filters.items():
        parts.append(
            f"{cat.dimensions[dim.value].zh if zh else cat.dimensions[dim.value].en} = {', '.join(values)}"
        )
    p = q.period
    parts.append(p.relative.value.replace("_", " ") if p.relative else f"{p.start} to {p.end}")
    if q.grain:
        parts.append(f"per {q.grain.value}")
    if q.compare_to:
        parts.append(f"vs {q.compare_to.value.replace('_', ' ')}")
    if q.top_n:
        parts.append(f"{'top' if q.order != 'asc' else 'bottom'} {q.top_n}")
    return (",".join(parts)) if zh else ", ".join(parts)


def _keep(session: Session, who: Principal, parsed: Parsed, question: str) -> None:
    session.add(
        UnansweredQuestion(
            asked_at=now(),
            asked_by=who.username,
            language=parsed.language,
            question=question[:1000],
            reason=(parsed.reason or "")[:500],
        )
    )


def fmt(value: float | None, unit: str, lang: str = "en") -> str:
    if value is None:
        return "suppressed" if lang == "en" else "已隐藏"
    if unit == "ratio":
        return f"{value:.2f}"
    whole = unit not in ("percent", "hours", "years", "currency") and value == int(value)  # counts
    number = f"{value:,.0f}" if whole else f"{value:,.1f}"
    if unit == "percent":
        return number + "%"
    if lang == "zh":
        return number + UNITS_ZH.get(unit, "")
    if unit == "currency":
        return number
    return f"{number} {'person' if unit == 'people' and value == 1 else unit}"


def narrative(a: Answer, lang: str, cat: Catalogue) -> str:
    """One or two sentences in the question's language, from the numbers only."""
    first = a.query.metrics[0].value
    m = cat.metrics[first]
    name = m.zh if lang == "zh" else m.en
    rows = [r for r in a.rows if not r.suppressed]
    start, end = a.period
    span, span_zh = f"{start} to {end}", f"{start}至{end}"
    if a.snapshot:  # a snapshot import, answered without a period
        span, span_zh = f"as of the snapshot of {a.snapshot}", f"截至 {a.snapshot} 的快照"
    if not a.rows:
        return f"没有{name}的数据。" if lang == "zh" else f"No {name} in {start} to {end}."
    if not rows:
        return (
            "人数不足5人,敏感数据已隐藏。"
            if lang == "zh"
            else "Fewer than 5 people in each group: the figures are suppressed."
        )
    if len(a.rows) == 1:
        r = a.rows[0]
        value = fmt(r.values[first], m.unit, lang)
        change = ""
        if a.query.compare_to and r.compared.get(first) is not None and r.values[first] is not None:
            before = r.compared[first]
            change = (
                f"(对比期为{fmt(before, m.unit, lang)})"
                if lang == "zh"
                else f" (compared with {fmt(before, m.unit, lang)})"
            )
        which = " / ".join(v for k, v in r.groups.items() if k != "currency")
        if lang == "zh":
            return f"{span_zh},{a.scope_zh}{'内' + which if which else ''}的{name}为{value}{change}。"
        when = span if a.snapshot else f"from {span}"
        return f"{name.capitalize()} {when} in {a.scope}{', ' + which if which else ''}: {value}{change}."
    ranked = sorted(one_currency(rows), key=lambda r: r.values[first] or 0, reverse=True)
    label = " / ".join(v for k, v in ranked[0].groups.items() if k != "currency") or ranked[0].period
    low = " / ".join(v for k, v in ranked[-1].groups.items() if k != "currency") or ranked[-1].period
    currency = f" {ranked[0].groups['currency']}" if "currency" in ranked[0].groups else ""
    hi = fmt(ranked[0].values[first], m.unit, lang) + currency
    lo = fmt(ranked[-1].values[first], m.unit, lang) + currency
    if lang == "zh":
        return f"{span_zh},{a.scope_zh}内{name}最高的是{label}({hi}),最低的是{low}({lo})。"
    return f"{name.capitalize()} in {a.scope}, {span}: highest {label} ({hi}), lowest {low} ({lo})."
