"""Differencing control for sensitive figures. Suppressing groups under 5 people is not enough: an
average pay for 40 people next to the same average for 39 of them (another filter, a narrower org,
a day later) gives away the 40th person's pay. Every sensitive figure shown is remembered with the
people behind it; a later figure of the same metric and period for the same asker whose people
differ from an earlier one's by 1 to 4 is hidden, with the reason.

Kept per asker (one person's questions are what they can combine), for `WINDOW` days."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tools.analytics.catalogue import MIN_GROUP, Catalogue, Sensitivity
from tools.analytics.query import AnalyticsQuery, shifted
from tools.store.db import READ_OPTION
from tools.store.models import AnalyticsRelease

if TYPE_CHECKING:
    from tools.analytics.engine import Row

WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Figure:
    """One sensitive figure about to be shown: metric, period key, the people behind it."""

    metric: str
    period: str
    members: frozenset[str]


@dataclass(frozen=True)
class Clash:
    figure: Figure
    shown_at: datetime
    differ_by: int


def period_key(stock: bool, start: date, end: date) -> str:
    """A flow (hires by gender) is about its span. A stock figure (pay) is compared across days: the
    average pay of a unit the day before and the day after one person joined gives away their pay."""
    return "stock" if stock else f"{start}..{end}"


def check(
    session: Session, asker: str, figures: Iterable[Figure], now: datetime | None = None
) -> list[Clash]:
    """The figures that would differ from one shown to `asker` before by fewer than MIN_GROUP people."""
    now = now or datetime.now(UTC)
    figures = list(figures)
    if not figures:
        return []
    earlier = session.execute(
        select(
            AnalyticsRelease.metric,
            AnalyticsRelease.period,
            AnalyticsRelease.members,
            AnalyticsRelease.released_at,
        )
        .where(AnalyticsRelease.asked_by == asker)
        .where(AnalyticsRelease.metric.in_({f.metric for f in figures}))
        .where(AnalyticsRelease.period.in_({f.period for f in figures}))
        .where(AnalyticsRelease.released_at >= now - WINDOW)
    ).all()
    clashes = []
    for f in figures:
        for metric, period, members, shown_at in earlier:
            if metric != f.metric or period != f.period:
                continue
            differ = len(f.members.symmetric_difference(members.split(",") if members else ()))
            if 0 < differ < MIN_GROUP:
                clashes.append(Clash(f, shown_at, differ))
                break
    return clashes


def remember(session: Session, asker: str, figures: Iterable[Figure], now: datetime | None = None) -> None:
    """Record the figures shown (each distinct set of people once) and forget those past the window."""
    now = now or datetime.now(UTC)
    session.execute(delete(AnalyticsRelease).where(AnalyticsRelease.released_at < now - WINDOW))
    for f in figures:
        members = ",".join(sorted(f.members))
        known = session.scalar(
            select(AnalyticsRelease.id)
            .where(AnalyticsRelease.asked_by == asker, AnalyticsRelease.metric == f.metric)
            .where(AnalyticsRelease.period == f.period, AnalyticsRelease.members == members)
            .limit(1)
        )
        if known is None:
            session.add(
                AnalyticsRelease(
                    released_at=now,
                    asked_by=asker,
                    metric=f.metric,
                    period=f.period,
                    size=len(f.members),
                    members=members,
                )
            )


Members = Callable[[str, date, date], dict[tuple, set[str]]]  # metric, start, end -> group -> people


def guard(
    session: Session,
    asker: str,
    q: AnalyticsQuery,
    cat: Catalogue,
    rows: list[Row],
    periods: list[tuple[str, date, date]],
    members: Members,
) -> list[str]:
    """Hide the rows whose sensitive figures would differ from earlier ones by fewer than 5 people;
    remember the rest. Returns the note for the answer (or nothing)."""
    sensitive = [
        m.value
        for m in q.metrics
        if cat.metrics[m.value].sensitivity is Sensitivity.SENSITIVE
        or any(cat.dimensions[d.value].sensitivity is Sensitivity.SENSITIVE for d in q.by)
    ]
    if not sensitive:
        return []
    if session.connection().get_execution_options().get(READ_OPTION):
        raise RuntimeError(
            "sensitive figures are answered in a write session: each one shown is remembered "
            "for the differencing check (session_scope(url, write=True))"
        )
    shown: list[tuple[Row, Figure]] = []
    for label, s, e in periods:
        spans = [(s, e, "values")] + ([(*shifted(s, e, q.compare_to), "compared")] if q.compare_to else [])
        for m in sensitive:
            stock = cat.metrics[m].kind == "stock"
            for start, end, field in spans:
                people = members(m, start, end)
                for r in rows:
                    if r.period == label and not r.suppressed and getattr(r, field).get(m) is not None:
                        group = people.get(tuple(r.groups.values()), set())
                        shown.append((r, Figure(m, period_key(stock, start, end), frozenset(group))))
    clashes = check(session, asker, [f for _, f in shown])
    hidden = {id(r) for r, f in shown if any(c.figure is f for c in clashes)}
    for r, _ in shown:
        if id(r) in hidden:
            r.suppressed = True
            r.values = dict.fromkeys(r.values)
            r.compared = dict.fromkeys(r.compared)
    remember(session, asker, [f for r, f in shown if id(r) not in hidden])
    if not hidden:
        return []
    first = min(c.shown_at for c in clashes)
    return [
        f"{len(hidden)} group(s) hidden: the figure would differ from one you were shown on {first:%Y-%m-%d} "
        f"by fewer than {MIN_GROUP} people, which would give away their values"
    ]
