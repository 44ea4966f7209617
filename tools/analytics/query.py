"""The typed analytics query: what a question means, in terms of the catalogue. The offline parser
and a model both produce one of these; only the compiler turns it into SQL.

Metric and dimension names are enums generated from the catalogue, so the JSON schema a model is
given lists exactly what can be asked."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from tools.analytics.catalogue import load

_cat = load()
MetricName = StrEnum("MetricName", {k.upper(): k for k in _cat.metrics})
DimensionName = StrEnum("DimensionName", {k.upper(): k for k in _cat.dimensions})


class Relative(StrEnum):
    THIS_MONTH = "this_month"
    LAST_MONTH = "last_month"
    THIS_QUARTER = "this_quarter"
    LAST_QUARTER = "last_quarter"
    THIS_YEAR = "this_year"
    LAST_YEAR = "last_year"
    YEAR_TO_DATE = "year_to_date"
    LAST_30_DAYS = "last_30_days"
    LAST_12_MONTHS = "last_12_months"


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Compare(StrEnum):
    PREVIOUS_PERIOD = "previous_period"
    SAME_PERIOD_LAST_YEAR = "same_period_last_year"


class Period(BaseModel):
    """Inclusive days. Either `relative` (resolved against today) or `start` and `end`."""

    relative: Relative | None = None
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _one_way(self) -> Period:
        if (self.relative is None) == (self.start is None or self.end is None):
            raise ValueError("give either `relative` or both `start` and `end`")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"the period starts ({self.start}) after it ends ({self.end})")
        return self

    def resolve(self, today: date, fiscal_start: int = 1) -> tuple[date, date]:
        if self.relative is None:
            assert self.start and self.end
            return self.start, self.end
        r = self.relative
        if r is Relative.LAST_30_DAYS:
            return today - timedelta(days=29), today
        if r is Relative.LAST_12_MONTHS:
            return _add_months(_month_start(today), -11), today
        if r in (Relative.THIS_MONTH, Relative.LAST_MONTH):
            start = _add_months(_month_start(today), 0 if r is Relative.THIS_MONTH else -1)
            return start, min(_month_end(start), today)
        if r in (Relative.THIS_QUARTER, Relative.LAST_QUARTER):
            q = _quarter_start(today, fiscal_start)
            start = q if r is Relative.THIS_QUARTER else _add_months(q, -3)
            return start, min(_add_months(start, 3) - timedelta(days=1), today)
        y = _year_start(today, fiscal_start)
        if r is Relative.LAST_YEAR:
            start = _add_months(y, -12)
            return start, y - timedelta(days=1)
        return y, today  # this year, year to date: up to today


class AnalyticsQuery(BaseModel):
    metrics: list[MetricName] = Field(min_length=1, max_length=3)
    by: list[DimensionName] = Field([], max_length=2, description="Group by these dimensions")
    grain: Grain | None = Field(None, description="A trend: one value per month, quarter or year")
    period: Period = Period(relative=Relative.THIS_MONTH)
    filters: dict[DimensionName, list[str]] = Field({}, description="Keep only these values")
    org_unit: str | None = Field(
        None, description="An org unit code within the asker's scope; None: all of it"
    )
    compare_to: Compare | None = None
    order: Literal["desc", "asc"] | None = None
    top_n: int | None = Field(None, ge=1, le=100)
    percent_of_total: bool = False


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    return date(d.year + m // 12, m % 12 + 1, 1)


def _quarter_start(d: date, fiscal_start: int) -> date:
    offset = (d.month - fiscal_start) % 3
    return _add_months(_month_start(d), -offset)


def _year_start(d: date, fiscal_start: int) -> date:
    back = (d.month - fiscal_start) % 12
    return _add_months(_month_start(d), -back)


def buckets(
    start: date, end: date, grain: Grain | None, fiscal_start: int = 1
) -> list[tuple[str, date, date]]:
    """(label, first day, last day) for each bucket of the period; one bucket without a grain."""
    if grain is None:
        return [(f"{start}..{end}", start, end)]
    grain = Grain(grain)
    if grain in (Grain.DAY, Grain.WEEK):
        return _days(start, end, grain)
    out = []
    step = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}[grain]
    cur = {
        Grain.MONTH: _month_start(start),
        Grain.QUARTER: _quarter_start(start, fiscal_start),
        Grain.YEAR: _year_start(start, fiscal_start),
    }[grain]
    while cur <= end:
        nxt = _add_months(cur, step)
        if grain is Grain.MONTH:
            label = f"{cur:%Y-%m}"
        elif grain is Grain.QUARTER:
            fy = _year_start(cur, fiscal_start)
            label = f"{_fy(fy, fiscal_start)}-Q{((cur.month - fiscal_start) % 12) // 3 + 1}"
        else:
            label = _fy(cur, fiscal_start)
        out.append((label, max(cur, start), min(nxt - timedelta(days=1), end)))
        cur = nxt
    return out


def _days(start: date, end: date, grain: Grain) -> list[tuple[str, date, date]]:
    """Days, or ISO weeks (Monday to Sunday, labelled 2026-W48), cut to the period."""
    if grain is Grain.DAY:
        return [(f"{d}", d, d) for d in (start + timedelta(days=i) for i in range((end - start).days + 1))]
    out = []
    cur = start - timedelta(days=start.weekday())
    while cur <= end:
        year, week, _ = cur.isocalendar()
        out.append((f"{year}-W{week:02d}", max(cur, start), min(cur + timedelta(days=6), end)))
        cur += timedelta(days=7)
    return out


def _fy(year_start: date, fiscal_start: int) -> str:
    return str(year_start.year) if fiscal_start == 1 else f"FY{year_start.year + 1}"


def shifted(start: date, end: date, compare: Compare) -> tuple[date, date]:
    """The comparison period for [start, end]."""
    if compare is Compare.SAME_PERIOD_LAST_YEAR:
        return _minus_year(start), _minus_year(end)
    days = (end - start).days + 1
    return start - timedelta(days=days), start - timedelta(days=1)


def _minus_year(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)
