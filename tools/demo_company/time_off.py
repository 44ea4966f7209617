"""Leave records for the demo company: the annual leave each active employee took last year and this
year (up to the seed's day, plus some booked for later this year), a few cancelled requests and a
few sick days. Deterministic from the seed; sized from the entitlement rules of tools/hr/leave.py,
so balances come out plausible (most people have days left, some carried days from last year).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tools.demo_company.company import Company, Person, seg_location
from tools.hr.leave import yearly_rate

BLOCKS = (0.5, 1, 1, 1, 2, 2, 3, 3, 5)  # sizes of one request, in working days


def _entitlement(p: Person, year: int, until: date) -> float:
    """Roughly the year's days accrued by `until`: the mid-year rate times the months employed."""
    first = max(p.hire, date(year, 1, 1))
    if first > until:
        return 0.0
    months = max(0.0, ((until - first).days + 1) / 365.25 * 12)
    mid = date(year, 7, 1)
    days, _, _ = yearly_rate(seg_location(p, mid).country, p.hire, p.hire, mid)
    return days * min(12.0, months) / 12


def _workdays(start: date, count: int) -> list[date]:
    out, day = [], start
    while len(out) < count:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def _requests(
    rng: random.Random, total: float, lo: date, hi: date, busy: set[date]
) -> Iterator[tuple[date, date, float]]:
    """Blocks adding up to about `total` working days, on free weekdays in [lo, hi]."""
    span = (hi - lo).days
    left = total
    tries = 0
    while left >= 0.5 and span > 0 and tries < 60:
        tries += 1
        size = min(rng.choice(BLOCKS), left)
        size = max(0.5, int(size * 2) / 2)
        days = _workdays(lo + timedelta(days=rng.randrange(span)), max(1, int(size + 0.5)))
        if days[-1] > hi or any(d in busy for d in days):
            continue
        busy.update(days)
        left -= size
        yield days[0], days[-1], size


def _recorder(employee_id: str, created: datetime):  # noqa: ANN202
    def record(kind: str, start: date, end: date, days: float, status: str = "approved") -> dict[str, Any]:
        return {
            "employee_id": employee_id,
            "leave_type": kind,
            "start_on": start,
            "end_on": end,
            "days": Decimal(str(days)),
            "status": status,
            "created_at": created,
        }

    return record


def rows(company: Company, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(f"{seed}:leave")
    today = company.as_of
    created = datetime.now(UTC)
    year_end = date(today.year, 12, 31)
    for p in company.people:
        if p.termination is not None or p.hire > today:
            continue
        busy: set[date] = set()

        record = _recorder(p.id, created)
        last = date(today.year - 1, 12, 31)
        if p.hire <= last:  # last year: most of it taken, a few days left over to carry
            taken = _entitlement(p, today.year - 1, last) * rng.uniform(0.6, 1.0)
            for start, end, days in _requests(
                rng, taken, max(p.hire, date(today.year - 1, 1, 1)), last, busy
            ):
                yield record("annual", start, end, days)
        # This year so far: part of what accrued; some of it booked for the weeks ahead.
        accrued = _entitlement(p, today.year, today)
        first = max(p.hire, date(today.year, 1, 1))
        taken = 0.0
        for start, end, days in _requests(rng, accrued * rng.uniform(0.3, 0.9), first, today, busy):
            taken += days
            yield record("annual", start, end, days)
        # Booked ahead: within what is left of the year's days (borrowing is the exception).
        ahead = min(rng.choice((1, 2, 3)), _entitlement(p, today.year, year_end) - 1 - taken)
        if today < year_end and ahead >= 0.5 and rng.random() < 0.35:
            for start, end, days in _requests(rng, ahead, today + timedelta(days=1), year_end, busy):
                yield record("annual", start, end, days)
        if rng.random() < 0.1:  # a request withdrawn before it started
            for start, end, days in _requests(rng, rng.choice((1, 2)), first, today, set(busy)):
                yield record("annual", start, end, days, "cancelled")
        if rng.random() < 0.3:
            for start, end, days in _requests(rng, rng.choice((1, 1, 2)), first, today, busy):
                yield record("sick", start, end, float(int(days + 0.5)) or 1.0)
