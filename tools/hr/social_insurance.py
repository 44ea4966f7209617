"""An employee's social insurance contribution base (社保基数) in China, as the handbook sets it
(social-insurance #contribution-base, #annual-adjustment; the city documents' #base-floor-cap):

- the base applies from 1 July to 30 June and is the average monthly gross pay of the calendar
  year before that July, divided by the months worked when the employee joined during that year;
- someone who joined after that year uses their first full month's salary;
- the result is raised to the city's floor or lowered to its cap (social_insurance.yaml, kept equal
  to the handbook by a test); the housing fund base is clamped to its own limits.

The HR store holds base salary only: allowances, overtime and bonuses are not in it, so the figure
is the base from salary, and the answer says so.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.market.config import load_config
from tools.store import queries
from tools.store.models import Compensation, Employee, JobAssignment, PayFrequency

LIMITS = Path(__file__).with_name("social_insurance.yaml")


class SocialInsuranceError(ValueError):
    """The base cannot be worked out from the record; the message says why."""


class Limit(BaseModel):
    floor: Decimal
    cap: Decimal


class CityLimits(BaseModel):
    city: str
    doc_id: str  # the city document (without the language suffix)
    valid_from: date
    valid_to: date  # inclusive, as the handbook states it
    social_insurance: Limit
    housing_fund: Limit


class ContributionBase(BaseModel):
    employee_id: str
    on: date
    city: str
    doc_id: str
    period_from: date  # the contribution year the base applies to
    period_to: date
    method: Literal["average", "first_month"]
    pay_year: int | None  # the year averaged (method "average")
    months: Decimal  # months worked in that year (1 for "first_month")
    average: Decimal  # average monthly salary (or the first month's), before the limits
    floor: Decimal
    cap: Decimal
    base: Decimal
    clamped: Literal["floor", "cap"] | None
    housing_floor: Decimal
    housing_cap: Decimal
    housing_base: Decimal
    currency: str = "CNY"


@cache
def city_limits() -> tuple[CityLimits, ...]:
    data = yaml.safe_load(LIMITS.read_text(encoding="utf-8"))
    return tuple(CityLimits.model_validate(x) for x in data["limits"])


def limits_for(city: str, on: date) -> CityLimits | None:
    return next((x for x in city_limits() if x.city == city and x.valid_from <= on <= x.valid_to), None)


def _clamp(amount: Decimal, limit: Limit) -> tuple[Decimal, Literal["floor", "cap"] | None]:
    if amount < limit.floor:
        return limit.floor, "floor"
    if amount > limit.cap:
        return limit.cap, "cap"
    return amount, None


def _monthly(row: Compensation) -> Decimal:
    if row.currency != "CNY":
        raise SocialInsuranceError(
            f"pay from {row.valid_from} is in {row.currency}, not CNY: Payroll declares this base by hand; ask HR Operations"
        )
    if row.frequency == PayFrequency.ANNUAL:
        return Decimal(row.base_amount) / 12
    if row.frequency == PayFrequency.MONTHLY:
        return Decimal(row.base_amount)
    raise SocialInsuranceError(
        "hourly pay: the base needs the hours worked, which Payroll declares; ask HR Operations"
    )


def _average(rows: list[Compensation], employee: Employee, year: int) -> tuple[Decimal, Decimal]:
    """(average monthly salary, months worked) over the calendar year: each day adds its month's
    salary share and its share of a month, so a part month counts as part of a month."""
    pay, months = Decimal(0), Decimal(0)
    day = date(year, 1, 1)
    while day.year == year:
        row = next(
            (r for r in rows if r.valid_from <= day and (r.valid_to is None or day < r.valid_to)), None
        )
        if row is not None and queries.employed_on(employee, day):
            length = Decimal(calendar.monthrange(year, day.month)[1])
            pay += _monthly(row) / length
            months += 1 / length
        day += timedelta(days=1)
    if months == 0:
        raise SocialInsuranceError(f"no salary on record for {year}; ask HR Operations to check your base")
    return pay / months, months


def contribution_base(session: Session, employee_id: str, on: date) -> ContributionBase:
    """The base in force on `on` for this employee, from their own record only."""
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise SocialInsuranceError(f"no employee record {employee_id}")
    job = queries.current(session, JobAssignment, employee_id, on)
    if job is None:
        raise SocialInsuranceError(
            f"{employee_id} has no job assignment on {on}; HR Operations must record one"
        )
    if load_config().country(job.location) != "CN":
        raise SocialInsuranceError(
            f"the social insurance contribution base (社保基数) applies to employees in China; "
            f"your work location is {job.location}"
        )
    limits = limits_for(job.location, on)
    if limits is None:
        raise SocialInsuranceError(
            f"the handbook gives no contribution base limits for {job.location} on {on}; ask HR Operations"
        )
    start = date(on.year if on.month >= 7 else on.year - 1, 7, 1)
    rows = list(
        session.scalars(
            select(Compensation)
            .where(Compensation.employee_id == employee_id)
            .order_by(Compensation.valid_from)
        )
    )
    if employee.hire_date.year >= start.year:
        # Joined after the year that is averaged: the first full month's salary.
        first = (
            employee.hire_date
            if employee.hire_date.day == 1
            else add_month(employee.hire_date.replace(day=1))
        )
        row = queries.current(session, Compensation, employee_id, first) or queries.current(
            session, Compensation, employee_id, employee.hire_date
        )
        if row is None:
            raise SocialInsuranceError("no salary on record from your start date; ask HR Operations")
        method: Literal["average", "first_month"] = "first_month"
        average, months, pay_year = _monthly(row), Decimal(1), None
    else:
        method, pay_year = "average", start.year - 1
        average, months = _average(rows, employee, pay_year)
    average = average.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    base, clamped = _clamp(average, limits.social_insurance)
    housing, _ = _clamp(average, limits.housing_fund)
    return ContributionBase(
        employee_id=employee_id,
        on=on,
        city=job.location,
        doc_id=limits.doc_id,
        period_from=start,
        period_to=date(start.year + 1, 6, 30),
        method=method,
        pay_year=pay_year,
        months=months.quantize(Decimal("0.01")),
        average=average,
        floor=limits.social_insurance.floor,
        cap=limits.social_insurance.cap,
        base=base,
        clamped=clamped,
        housing_floor=limits.housing_fund.floor,
        housing_cap=limits.housing_fund.cap,
        housing_base=housing,
    )


def add_month(first_of_month: date) -> date:
    return date(first_of_month.year + first_of_month.month // 12, first_of_month.month % 12 + 1, 1)
