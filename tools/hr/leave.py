"""Annual leave entitlement and balance for one employee, as the handbook states the rules:

- leave policy #annual-leave (China): statutory days by total working years (5 / 10 / 15 from 1, 10
  and 20 years, raised from the month after the threshold) plus 1 company day per full year at Acme
  (up to 5, raised on the anniversary); at least 5 and at most 20 days.
- #annual-leave-international: Singapore 14 + 1 per completed year (max 18); London 25, +1 after 3
  and +1 after 5 years (plus 8 bank holidays, not part of the balance); New York 20 PTO days, 25
  after 5 years (us-benefits #pto: accrued 0.77 / 0.96 days per bi-weekly pay period).
  Part-time: pro rata to contracted hours (the assignment's FTE).
- #annual-leave-balance: accrues 1/12 of the yearly entitlement per completed month, joiners from
  their start date; balance = yearly entitlement (pro rata for joiners and leavers) + carried-over
  days not expired - taken - booked. Half-day steps (figures are rounded down to them).
- #carry-over: up to 5 unused days into the next year, used first, expiring 31 March (Singapore
  30 June); days above 5 lapse on 31 December.
- #unpaid-leave: unpaid leave does not count towards service for company days.

The store knows no employer before Acme: total working years are taken as Acme service, and the
answer says so. A yearly figure is the sum of its months, each at the rate in force on its first
day, so an anniversary during the year raises the year's entitlement pro rata.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.market.config import load_config
from tools.store import queries
from tools.store.models import Employee, JobAssignment, LeaveRecord, LeaveStatus, LeaveType

CARRY_MAX = Decimal(5)
CN_MIN, CN_MAX, CN_COMPANY_MAX = 5, 20, 5
UK_BANK_HOLIDAYS = 8
US_ACCRUAL = {20: Decimal("0.77"), 25: Decimal("0.96")}  # days per pay period (us-benefits #pto)
US_PERIOD_END = date(2026, 11, 28)  # a bi-weekly pay period's last day (payroll calendar #calendar-us)
COUNTRIES = ("CN", "SG", "GB", "US")


class LeaveRuleError(ValueError):
    """The balance cannot be worked out from the record; the message says what is missing."""


class LeaveBalance(BaseModel):
    employee_id: str
    on: date
    year: int
    country: str
    location: str
    service_start: date  # the Acme hire date: the proxy for total working years in China
    rate: Decimal  # the yearly entitlement in force on `on` (before pro rata)
    statutory_days: int | None = None  # China: the two parts of `rate`
    company_days: int | None = None
    entitlement: Decimal  # this year's, pro rata for a joiner or leaver
    accrued: Decimal  # of it, accrued by `on`
    carried_over: Decimal  # from last year
    carry_expires_on: date
    carry_counted: Decimal  # what of it still counts: all before expiry, the part used before it after
    carry_known: bool  # False: no leave records for last year, nothing carried is counted
    taken: Decimal  # approved annual leave this year starting on or before `on`
    booked: Decimal  # approved, starting later this year
    balance: Decimal
    bank_holidays: int = 0  # London: on top of the balance


def half_days(x: Decimal) -> Decimal:
    """Down to a half-day step: never more than the policy gives."""
    return (x * 2).to_integral_value(rounding=ROUND_FLOOR) / 2


def full_years(start: date, day: date) -> int:
    """Completed years from `start` to `day` (the anniversary itself completes one)."""
    years = day.year - start.year - ((day.month, day.day) < (start.month, start.day))
    return max(0, years)


def statutory_days(years: int) -> int:
    return 0 if years < 1 else 5 if years < 10 else 10 if years < 20 else 15


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def yearly_rate(
    country: str, working_since: date, service_since: date, day: date
) -> tuple[int, int | None, int | None]:
    """(days a year, statutory, company) in force on `day`, full time. `working_since` counts total
    working years (China statutory), `service_since` Acme service less unpaid leave."""
    service = full_years(service_since, day)
    if country == "CN":
        # Statutory days change from the month after the threshold: count years to the month before.
        statutory = statutory_days(full_years(working_since, day.replace(day=1) - timedelta(days=1)))
        company = min(CN_COMPANY_MAX, service)
        return min(CN_MAX, max(CN_MIN, statutory + company)), statutory, company
    if country == "SG":
        return min(18, 14 + service), None, None
    if country == "GB":
        return 25 + (service >= 3) + (service >= 5), None, None
    if country == "US":
        return (25 if service >= 5 else 20), None, None
    raise LeaveRuleError(
        f"the leave policy has no annual leave rule for country {country}; ask HR Operations for your entitlement"
    )


class _Person:
    """One employee's record as the calculation needs it, read once."""

    def __init__(self, session: Session, employee_id: str) -> None:
        employee = session.get(Employee, employee_id)
        if employee is None:
            raise LeaveRuleError(f"no employee record {employee_id}")
        self.employee = employee
        self.jobs = list(
            session.scalars(
                select(JobAssignment)
                .where(JobAssignment.employee_id == employee_id)
                .order_by(JobAssignment.valid_from)
            )
        )
        self.records = list(
            session.scalars(
                select(LeaveRecord)
                .where(LeaveRecord.employee_id == employee_id, LeaveRecord.status == LeaveStatus.APPROVED)
                .order_by(LeaveRecord.start_on)
            )
        )
        self.unpaid = [r for r in self.records if r.leave_type == LeaveType.UNPAID]
        self.annual = [r for r in self.records if r.leave_type == LeaveType.ANNUAL]

    def job(self, day: date) -> JobAssignment | None:
        for j in reversed(self.jobs):
            if j.valid_from <= day and (j.valid_to is None or day < j.valid_to):
                return j
        return None

    def country(self, day: date) -> str | None:
        job = self.job(day)
        return load_config().country(job.location) if job else None

    def service_since(self, day: date) -> date:
        """The hire date moved on by the unpaid leave taken before `day`."""
        unpaid = sum(
            (
                (min(r.end_on, day - timedelta(days=1)) - r.start_on).days + 1
                for r in self.unpaid
                if r.start_on < day
            ),
            0,
        )
        return self.employee.hire_date + timedelta(days=unpaid)

    def rate(self, day: date) -> tuple[Decimal, int | None, int | None]:
        """(yearly days pro rata to the FTE, statutory, company) in force on `day`; 0 when not in a job."""
        full, statutory, company, fte = self.full_time_rate(day)
        return Decimal(full) * fte, statutory, company

    def full_time_rate(self, day: date) -> tuple[int, int | None, int | None, Decimal]:
        job = self.job(day)
        if job is None:
            return 0, None, None, Decimal(0)
        country = load_config().country(job.location) or job.location
        days, statutory, company = yearly_rate(country, self.employee.hire_date, self.service_since(day), day)
        return days, statutory, company, Decimal(job.fte)

    def periods(self, year: int) -> list[tuple[date, date]]:
        """Accrual months [start, end) in `year`: calendar months, or months from the start date for a
        joiner; only those completed while employed."""
        hire, left = self.employee.hire_date, self.employee.termination_date
        first, next_year = date(year, 1, 1), date(year + 1, 1, 1)
        if hire >= next_year:
            return []
        origin = hire if hire > first else first
        out = []
        for k in range(12):
            start, end = add_months(origin, k), add_months(origin, k + 1)
            if end > next_year or (left is not None and end > left):
                break
            out.append((start, end))
        return out

    def entitlement(self, year: int, until: date | None = None) -> Decimal:
        """The year's entitlement, or what of it accrued by `until` (a month counts from its last day on)."""
        twelfths = sum(
            (
                self.rate(start)[0]
                for start, end in self.periods(year)
                if until is None or end <= until + timedelta(days=1)
            ),
            Decimal(0),
        )
        return half_days(twelfths / 12)  # divided once: twelve twelfths of 10 are 10, not 9.99...

    def us_accrued(self, year: int, until: date) -> Decimal:
        """New York PTO: 0.77 (0.96 after 5 years) days per bi-weekly pay period ended by `until`."""
        total = Decimal(0)
        end = US_PERIOD_END + timedelta(days=14 * ((date(year, 1, 1) - US_PERIOD_END).days // 14 + 1))
        while end.year == year and end <= until:
            start = end - timedelta(days=13)
            if start >= self.employee.hire_date:
                days, _, _, fte = self.full_time_rate(start)
                total += US_ACCRUAL.get(days, Decimal(days) / 26) * fte
            end += timedelta(days=14)
        return total

    def annual_in(self, year: int, *, until: date | None = None, after: date | None = None) -> Decimal:
        return sum(
            (
                r.days
                for r in self.annual
                if r.start_on.year == year
                and (until is None or r.start_on <= until)
                and (after is None or r.start_on > after)
            ),
            Decimal(0),
        )

    def carry_expiry(self, year: int) -> date:
        country = self.country(max(date(year, 1, 1), self.employee.hire_date))
        return date(year, 6, 30) if country == "SG" else date(year, 3, 31)

    def carry_known(self, year: int) -> bool:
        """Nothing to carry (joined this year), or last year's leave is on record (the first record is
        from last year or before): otherwise what was carried over cannot be known."""
        if self.employee.hire_date.year >= year:
            return True
        return bool(self.records) and self.records[0].start_on.year <= year - 1

    def carried_into(self, year: int) -> Decimal:
        """Unused days of last year's own entitlement, up to 5 (last year's carried days were used first)."""
        if self.employee.hire_date.year >= year or not self.carry_known(year):
            return Decimal(0)
        before = self.carried_into(year - 1)
        used_carry = min(before, self.annual_in(year - 1, until=self.carry_expiry(year - 1)))
        unused = self.entitlement(year - 1) - (self.annual_in(year - 1) - used_carry)
        return max(Decimal(0), min(CARRY_MAX, unused))


def leave_balance(session: Session, employee_id: str, on: date) -> LeaveBalance:
    """The employee's annual leave on `on`: this year's entitlement, what is carried over, taken and
    booked, and the remaining balance. Reads this one employee's rows only."""
    person = _Person(session, employee_id)
    employee = person.employee
    if not queries.employed_on(employee, on):
        raise LeaveRuleError(f"{employee_id} is not employed on {on}: no leave balance to show")
    job = person.job(on)
    country = person.country(on)
    if job is None or country is None:
        raise LeaveRuleError(
            f"{employee_id} has no job assignment with a known work location on {on}; HR Operations must record one"
        )
    if country not in COUNTRIES:
        raise LeaveRuleError(
            f"the leave policy has no annual leave rule for {job.location}; ask HR Operations for your entitlement"
        )
    year = on.year
    rate, statutory, company = person.rate(on)
    entitlement = person.entitlement(year)
    accrued = person.us_accrued(year, on) if country == "US" else person.entitlement(year, until=on)
    carried = person.carried_into(year)
    expires = person.carry_expiry(year)
    counted = carried if on <= expires else min(carried, person.annual_in(year, until=expires))
    taken, booked = person.annual_in(year, until=on), person.annual_in(year, after=on)
    return LeaveBalance(
        employee_id=employee_id,
        on=on,
        year=year,
        country=country,
        location=job.location,
        service_start=employee.hire_date,
        rate=rate,
        statutory_days=statutory,
        company_days=company,
        entitlement=entitlement,
        accrued=min(accrued, entitlement),
        carried_over=carried,
        carry_expires_on=expires,
        carry_counted=counted,
        carry_known=person.carry_known(year),
        taken=taken,
        booked=booked,
        balance=entitlement + counted - taken - booked,
        bank_holidays=UK_BANK_HOLIDAYS if country == "GB" else 0,
    )
