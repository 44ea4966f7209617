"""The monthly learning digest of one subscriber: the learning figures of one calendar month, each
compared with the period before it, and one split by organisation unit.

Every figure is a typed query answered by the engine for the subscriber, so their scope (the units
they head, the organisations they cover as HRBP, everyone for HR) is applied there, never here,
and every answer is audited like an answered question. The text is in the subscriber's language
(English or Chinese) and ends with where each number came from. A subscriber the engine refuses
(no longer heading a unit, a store without learning records) gets a digest saying why."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tools.analytics.ask import fmt, narrative
from tools.analytics.catalogue import Catalogue, load
from tools.analytics.engine import Answer, Refused, answer
from tools.analytics.query import AnalyticsQuery, Compare
from tools.notify.outbox import Message
from tools.store import audit
from tools.store.identity import Principal

Language = Literal["en", "zh"]
KIND = "learning_digest"
# The headline figures (at most three metrics a query) and the split by organisation unit.
HEADLINE = (
    ("training_hours", "training_hours_per_employee", "completions"),
    ("completion_rate", "active_learners", "mandatory_overdue"),
)
BY_UNIT = ("training_hours_per_employee", "completion_rate", "mandatory_overdue")
MAX_UNITS = 12  # the outbox keeps 2,000 characters a message: the first units by code, then "and N more"
BODY_LIMIT, SUBJECT_LIMIT = 2000, 300

WORDS = {
    "en": {
        "na": "n/a",
        "before": "before",
        "by_unit": "By organisation unit",
        "more": "and {n} more units",
        "source": "Source",
        ":": ": ",
        "(": " (",
        ")": ")",
    },
    "zh": {
        "na": "无数据",
        "before": "对比期",
        "by_unit": "按部门",
        "more": "另有{n}个部门",
        "source": "数据来源",
        ":": ":",
        "(": "(",
        ")": ")",
    },
}


class Figure(BaseModel):
    metric: str
    unit: str
    value: float | None
    before: float | None  # the same metric in the comparison period


class UnitFigures(BaseModel):
    org_unit: str
    values: dict[str, float | None]
    suppressed: bool = False


class Digest(BaseModel):
    username: str
    language: Language
    month: date  # its first day
    scope: str | None = None  # in the digest's language
    period: tuple[date, date] | None = None
    compare_period: tuple[date, date] | None = None
    figures: list[Figure] = []
    units: list[UnitFigures] = []
    provenance: list[str] = []
    refused: str | None = None  # why there are no figures, in the digest's language
    subject: str = ""
    body: str = ""

    def message(self) -> Message:
        """For the outbox: one per subscriber and month, however often it is built."""
        return Message(
            recipients=[self.username],
            kind=KIND,
            subject=self.subject,
            body=self.body,
            key=key_for(self.username, self.month),
        )


def key_for(username: str, month: date) -> str:
    return f"{KIND}:{username}:{month:%Y-%m}"


def previous_month(day: date) -> date:
    """The first day of the calendar month before `day`'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def queries(month: date) -> list[AnalyticsQuery]:
    """The month's headline queries, then the split by organisation unit; each against the period before."""
    first = month.replace(day=1)
    common = {
        "period": {"start": first, "end": first.replace(day=calendar.monthrange(first.year, first.month)[1])},
        "compare_to": Compare.PREVIOUS_PERIOD,
    }
    return [
        *(AnalyticsQuery.model_validate({"metrics": list(m), **common}) for m in HEADLINE),
        AnalyticsQuery.model_validate({"metrics": list(BY_UNIT), "by": ["org_unit"], **common}),
    ]


def build(
    session: Session,
    who: Principal,
    month: date,
    language: Language,
    today: date,
    *,
    workflow_id: str | None = None,
    cat: Catalogue | None = None,
) -> Digest:
    """The digest of `month` for `who`, with subject and body; each answer read is audited."""
    cat = cat or load()
    digest = Digest(username=who.username, language=language, month=month.replace(day=1))
    try:
        answers = [answer(session, who, q, today, cat) for q in queries(month)]
    except Refused as e:
        digest.refused = e.say(language)
        return _render(digest, None, cat)
    audit.append_many(
        session,
        [
            audit.AuditEvent(
                actor=who.username,
                action="analytics.answered",
                workflow_id=workflow_id,
                details={
                    "metrics": [m.value for m in a.query.metrics],
                    "by": [d.value for d in a.query.by],
                    "scope": a.scope,
                    "rows": len(a.rows),
                    "read_by": KIND,
                    "month": f"{digest.month:%Y-%m}",
                },
            )
            for a in answers
        ],
    )
    *headline, split = answers
    digest.scope = split.scope_zh if language == "zh" else split.scope
    digest.period, digest.compare_period = split.period, split.compare_period
    digest.figures = [
        Figure(
            metric=m.value,
            unit=cat.metrics[m.value].unit,
            value=a.rows[0].values[m.value] if a.rows else None,
            before=a.rows[0].compared.get(m.value) if a.rows else None,
        )
        for a in headline
        for m in a.query.metrics
    ]
    digest.units = [
        UnitFigures(org_unit=r.groups["org_unit"], values=r.values, suppressed=r.suppressed)
        for r in sorted(split.rows, key=lambda r: r.groups["org_unit"])
    ]
    digest.provenance = [a.provenance for a in answers]
    return _render(digest, split, cat)


def _month_name(month: date, language: Language) -> str:
    return (
        f"{month.year}年{month.month}月"
        if language == "zh"
        else f"{calendar.month_name[month.month]} {month.year}"
    )


def _say(value: float | None, unit: str, language: Language, suppressed: bool = False) -> str:
    """A figure in words; no value (nothing to divide by, nothing recorded) is not a hidden one."""
    if value is None and not suppressed:
        return WORDS[language]["na"]
    return fmt(value, unit, language)


def _render(digest: Digest, split: Answer | None, cat: Catalogue) -> Digest:
    lang = digest.language
    zh = lang == "zh"
    w = WORDS[lang]
    month = _month_name(digest.month, lang)
    if digest.refused is not None:
        digest.subject = f"{month}学习月报无法生成" if zh else f"Learning digest for {month}: not available"
        digest.body = (
            f"{month}的学习月报无法生成:{digest.refused}。取消订阅:hrops digest unsubscribe"
            if zh
            else f"No learning digest for {month}: {digest.refused}. To stop it: hrops digest unsubscribe"
        )
        return digest
    assert digest.period and digest.compare_period and split is not None
    (start, end), (before_start, before_end) = digest.period, digest.compare_period
    subject = f"学习月报:{digest.scope},{month}" if zh else f"Learning digest: {digest.scope}, {month}"
    digest.subject = subject[:SUBJECT_LIMIT]
    lines = [
        f"{digest.scope} {month}的学习数据({start}至{end}),对比期为{before_start}至{before_end}。"
        if zh
        else f"Learning in {digest.scope}, {month} ({start} to {end}), "
        f"each compared with {before_start} to {before_end}."
    ]
    c, lp, rp = w[":"], w["("], w[")"]
    for f in digest.figures:
        m = cat.metrics[f.metric]
        value, before = _say(f.value, f.unit, lang), _say(f.before, f.unit, lang)
        lines.append(f"- {m.zh if zh else m.en.capitalize()}{c}{value}{lp}{w['before']}{c}{before}{rp}")
    names = " / ".join(cat.metrics[m].zh if zh else cat.metrics[m].en for m in BY_UNIT)
    lines.append(f"{w['by_unit']}{lp}{names}{rp}{c.strip()}")
    for u in digest.units[:MAX_UNITS]:
        cells = " / ".join(_say(u.values[m], cat.metrics[m].unit, lang, u.suppressed) for m in BY_UNIT)
        lines.append(f"- {u.org_unit}{c}{cells}")
    if len(digest.units) > MAX_UNITS:
        lines.append(f"- {w['more'].format(n=len(digest.units) - MAX_UNITS)}")
    if len(split.rows) > 1:
        lines.append(narrative(split, lang, cat))
    lines += [f"{w['source']}{c}{p}" for p in digest.provenance]
    digest.body = "\n".join(lines)[:BODY_LIMIT]
    return digest
