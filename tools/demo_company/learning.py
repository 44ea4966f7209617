"""Learning records with seasonality, streamed: 5 million rows never sit in memory together."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, timedelta

from tools.demo_company import catalogue as cat
from tools.demo_company.company import Company, Person

# (employee_id, course_id, enrolled_on, due_on, completed_on, hours, score, status)
Row = tuple[str, str, date, date | None, date | None, float, float | None, str]

DUE_DAYS = 60
_FAMILY_TASTE = {
    "Engineering": {"technical": 4.0, "security": 2.0},
    "Product": {"product": 4.0, "business": 1.5},
    "Sales": {"sales": 4.0, "product": 1.5},
    "Marketing": {"business": 2.5, "product": 2.0},
    "Finance": {"business": 3.0, "technical": 1.5},
    "Human Resources": {"compliance": 2.0, "leadership": 1.5},
    "Legal": {"compliance": 3.0},
    "Operations": {"health_safety": 2.0, "business": 1.5},
}


def _elective_weights(family: str, manager: bool) -> list[float]:
    taste = _FAMILY_TASTE.get(family, {})
    return [
        taste.get(c.category, 1.0) * (3.0 if manager and c.category == "leadership" else 1.0)
        for c in cat.ELECTIVE
    ]


def _quiet(day: date, china: bool) -> float:
    weight = cat.MONTH_WEIGHT[day.month]
    if china and (date(day.year, 1, 21) <= day <= date(day.year, 2, 15)):
        weight *= cat.CNY_QUIET
    return weight


def _employed(p: Person, company: Company) -> tuple[date, date]:
    """[first, end) of the days this person could have enrolled during the history."""
    return max(p.hire, company.start), min(
        p.termination or company.as_of + timedelta(days=1), company.as_of + timedelta(days=1)
    )


def _outcome(
    rng: random.Random, course: cat.CourseSpec, enrolled: date, end: date, as_of: date, mandatory: bool
) -> tuple[date | None, float, float | None, str]:
    if not mandatory and rng.random() < 0.06:
        return None, round(course.hours * rng.uniform(0, 0.4) * 2) / 2, None, "withdrawn"
    if rng.random() < cat.COMPLETION[course.category]:
        done = enrolled + timedelta(days=rng.randrange(1, 45 if mandatory else 20 + int(course.hours * 3)))
        if done <= as_of and done < end:
            score = float(rng.randrange(60, 101)) if course.assessed else None
            return done, round(course.hours * rng.uniform(0.9, 1.25) * 2) / 2, score, "completed"
    if end <= as_of:  # left before finishing
        return None, round(course.hours * rng.uniform(0, 0.5) * 2) / 2, None, "withdrawn"
    started = rng.random() < 0.6
    hours = round(course.hours * rng.uniform(0.1, 0.7) * 2) / 2 if started else 0.0
    return None, hours, None, "in_progress" if started else "enrolled"


def rows(company: Company, seed: int, per_employee: float) -> Iterator[Row]:
    rng = random.Random(f"{seed}:learning")
    as_of = company.as_of
    spans = [_employed(p, company) for p in company.people]
    employed_days = sum(max(0, (hi - lo).days) for lo, hi in spans)
    # Spread the target volume over employed days, so leavers get their share of the history.
    per_day = per_employee * sum(1 for p in company.people if p.termination is None) / max(1, employed_days)
    for p, (lo, hi) in zip(company.people, spans, strict=True):
        if lo >= hi:
            continue
        seg = p.segments[-1]
        family = seg.unit.division.family if seg.unit.division else "Engineering"
        china = (seg.unit.location.country if seg.unit.location else "CN") == "CN"
        mandatory_count = 0
        # Onboarding courses once, two weeks after joining; the annual campaign every 15 January
        # (joiners get that year's round with their onboarding).
        joined = p.hire + timedelta(days=14)
        plan = [(joined, c) for c in cat.ONBOARDING] if lo <= joined < hi else []
        for year in range(lo.year, hi.year + 1):
            assigned = max(date(year, 1, 15), joined)
            if lo <= assigned < hi:
                plan += [(assigned, c) for c in cat.ANNUAL]
        for assigned, course in plan:
            if assigned > as_of:
                continue
            done, hours, score, status = _outcome(rng, course, assigned, hi, as_of, True)
            mandatory_count += 1
            yield (p.id, course.id, assigned, assigned + timedelta(days=DUE_DAYS), done, hours, score, status)
        expected = per_day * (hi - lo).days - mandatory_count
        if expected <= 0:
            continue
        count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
        weights = _elective_weights(family, p.head_of is not None)
        span = (hi - lo).days
        for course in rng.choices(cat.ELECTIVE, weights=weights, k=count):
            while True:  # seasonality by rejection: busy months accept more often
                day = lo + timedelta(days=int(rng.random() * span))
                if rng.random() * 1.4 < _quiet(day, china):
                    break
            done, hours, score, status = _outcome(rng, course, day, hi, as_of, False)
            yield (p.id, course.id, day, None, done, hours, score, status)
