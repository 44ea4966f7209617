"""The company's own pay from the HR store: people whose job in force on the day matches the internal
titles (the match's `source_categories["internal"]`, else the question's title), optionally job
families (`source_categories["internal_family"]`) and the question's internal level (L1-L9). Base pay
in force that day, annualised (monthly x 12, hourly x 2080), one figure per currency; fewer than
MIN_POINTS people: suppressed."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, false, func, or_, select

from tools.market.models import (
    MIN_POINTS,
    Citation,
    MarketQuestion,
    Match,
    PayPeriod,
    SourceFigure,
)
from tools.market.sources import SourceContext, register
from tools.market.stats import percentiles
from tools.store.db import session_scope
from tools.store.models import Compensation, Employee, JobAssignment, PayFrequency
from tools.store.queries import in_force

ANNUAL_FACTOR = {PayFrequency.ANNUAL: 1, PayFrequency.MONTHLY: 12, PayFrequency.HOURLY: 2080}
INTERNAL_LEVEL = re.compile(r"^L\d{1,2}$", re.IGNORECASE)


@dataclass(frozen=True)
class JobCut:
    """Which jobs count as the matched job in the HR store."""

    titles: tuple[str, ...]
    families: tuple[str, ...] = ()
    level: str | None = None  # internal level (L4), when the question names one

    @classmethod
    def of(cls, match: Match, question: MarketQuestion) -> JobCut:
        titles = match.source_categories.get("internal") or [question.title]
        families = match.source_categories.get("internal_family") or []
        level = question.level.upper() if question.level and INTERNAL_LEVEL.match(question.level) else None
        return cls(tuple(t.strip() for t in titles), tuple(f.strip() for f in families), level)

    def describe(self, shown: int = 4) -> str:
        def names(items: tuple[str, ...]) -> str:
            more = f" or {len(items) - shown} more" if len(items) > shown else ""
            return " or ".join(repr(t) for t in items[:shown]) + more

        what = "title " + names(self.titles)
        if self.families:
            what += " or job family " + names(self.families)
        return what + (f", level {self.level}" if self.level else "")


@dataclass(frozen=True)
class Paid:
    """One person's annual base pay (never leaves this package: only aggregates do)."""

    location: str
    currency: str
    annual: float
    gender: str | None


def people_in_job(db_url: str, day: date, cut: JobCut) -> list[Paid]:
    """Everyone employed on `day` whose job in force then matches `cut`, with the base pay in force."""
    wanted = or_(
        func.lower(JobAssignment.title).in_([t.lower() for t in cut.titles]),
        JobAssignment.job_family.in_(cut.families) if cut.families else false(),
    )
    stmt = (
        select(
            JobAssignment.location,
            Compensation.currency,
            Compensation.base_amount,
            Compensation.frequency,
            Employee.gender,
        )
        .join(Employee, Employee.id == JobAssignment.employee_id)
        .join(
            Compensation,
            and_(Compensation.employee_id == JobAssignment.employee_id, *in_force(Compensation, day)),
        )
        .where(*in_force(JobAssignment, day), wanted)
        .where(
            Employee.hire_date <= day,
            or_(Employee.termination_date.is_(None), Employee.termination_date > day),
        )
    )
    if cut.level:
        stmt = stmt.where(JobAssignment.level == cut.level)
    with session_scope(db_url) as s:
        return [
            Paid(loc, cur.upper(), float(amount) * ANNUAL_FACTOR[PayFrequency(freq)], gender)
            for loc, cur, amount, freq, gender in s.execute(stmt)
        ]


@register
class InternalPay:
    name = "internal"

    def figures(self, match: Match, question: MarketQuestion, ctx: SourceContext) -> list[SourceFigure]:
        cut = JobCut.of(match, question)
        by_currency: dict[str, list[Paid]] = defaultdict(list)
        for p in people_in_job(ctx.db_url, ctx.today, cut):
            by_currency[p.currency].append(p)
        out = []
        for currency, people in sorted(by_currency.items(), key=lambda kv: -len(kv[1])):
            n = len(people)
            notes = ["base pay as recorded, annualised (monthly x 12, hourly x 2080); not scaled by FTE"]
            if n < MIN_POINTS:
                notes.append(f"{n} people, fewer than {MIN_POINTS}: figures withheld")
            out.append(
                SourceFigure(
                    source=self.name,
                    category=cut.describe(),
                    location=", ".join(sorted({p.location for p in people})),
                    percentiles=percentiles([p.annual for p in people]),
                    sample_size=n,
                    reference_date=ctx.today,
                    currency=currency,
                    pay_period=PayPeriod.ANNUAL,
                    citation=Citation(
                        publisher="the company's HR store",
                        title=f"base pay in force on {ctx.today}",
                        detail=f"employees whose job has {cut.describe(shown=99)}; paid in {currency}",
                    ),
                    notes=notes,
                    suppressed=n < MIN_POINTS,
                )
            )
        return out
