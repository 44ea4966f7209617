"""Catalogue v2 metrics and dimensions on the demo company, each checked against plain Python over
the same rows: median pay, compa-ratio, mandatory-training completion; manager, course and job
title splits; daily and weekly trends."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TODAY
from tests.test_analytics_engine import _ask
from tools.analytics.engine import MAX_BUCKETS, Refused, answer
from tools.analytics.query import AnalyticsQuery
from tools.store import queries
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import (
    Compensation,
    Course,
    Employee,
    JobAssignment,
    LearningRecord,
    PayBand,
    UserRole,
)

PER_YEAR = {"annual": 1, "monthly": 12, "hourly": 2080}
LAST_QUARTER = {"start": "2026-07-01", "end": "2026-09-30"}


def _pay_today(url: str) -> list[tuple[JobAssignment, Compensation]]:
    with session_scope(url) as s:
        jobs = {
            j.employee_id: j
            for j in s.scalars(select(JobAssignment).where(*queries.in_force(JobAssignment, TODAY)))
        }
        pays = s.scalars(select(Compensation).where(*queries.in_force(Compensation, TODAY))).all()
        s.expunge_all()
    return [(jobs[p.employee_id], p) for p in pays if p.employee_id in jobs]


def test_median_pay_per_currency_matches_the_middle_of_the_sorted_pay(demo: str) -> None:
    ans = _ask(demo, "admin", metrics=["median_base_pay", "average_base_pay"])
    by_currency: dict[str, list[float]] = defaultdict(list)
    for _, p in _pay_today(demo):
        by_currency[p.currency].append(float(p.base_amount) * PER_YEAR[p.frequency])
    shown = {r.groups["currency"]: r for r in ans.rows if not r.suppressed}
    assert shown, "the demo company has currencies with at least 5 people"
    for currency, row in shown.items():
        assert row.values["median_base_pay"] == pytest.approx(statistics.median(by_currency[currency]))
        assert row.values["average_base_pay"] == pytest.approx(statistics.mean(by_currency[currency]))
        assert row.people == len(by_currency[currency])
    hidden = {c for c, v in by_currency.items() if len(v) < 5}
    assert {r.groups["currency"] for r in ans.rows if r.suppressed} >= hidden


def test_pay_stored_per_month_gives_the_same_yearly_figures(demo: str) -> None:
    """An import may bring monthly pay: it is compared as a yearly amount, never mixed with annual."""
    before = _ask(demo, "admin", metrics=["average_base_pay", "median_base_pay"])
    with session_scope(demo, write=True) as s:
        for p in s.scalars(select(Compensation).where(*queries.in_force(Compensation, TODAY))):
            # Kept to the cent, as Postgres keeps it (SQLite would keep every digit).
            p.base_amount, p.frequency = round(p.base_amount / 12, 2), "monthly"
    after = _ask(demo, "admin", metrics=["average_base_pay", "median_base_pay"])
    assert [r.groups for r in after.rows] == [r.groups for r in before.rows]
    for old, new in zip(before.rows, after.rows, strict=True):
        for m in ("average_base_pay", "median_base_pay"):
            assert (old.values[m] is None) == (new.values[m] is None)
            # A monthly amount off by at most half a cent: the yearly figure by at most 12 x that.
            assert old.values[m] is None or new.values[m] == pytest.approx(old.values[m], abs=0.06)


def test_compa_ratio_is_pay_over_the_band_midpoint(demo: str) -> None:
    with session_scope(demo) as s:
        bands = {
            (b.level, b.location, b.currency): float(b.mid_amount) * PER_YEAR[b.frequency]
            for b in s.scalars(select(PayBand).where(*queries.in_force(PayBand, TODAY)))
        }
    ratios: dict[str, list[float]] = defaultdict(list)
    for j, p in _pay_today(demo):
        mid = bands.get((j.level, j.location, p.currency))
        if mid:
            ratios[j.level].append(float(p.base_amount) * PER_YEAR[p.frequency] / mid)
    ans = _ask(demo, "admin", metrics=["compa_ratio"], by=["level"])
    shown = {r.groups["level"]: r.values["compa_ratio"] for r in ans.rows if not r.suppressed}
    assert shown
    for level, value in shown.items():
        assert value == pytest.approx(statistics.mean(ratios[level]))
    for r in ans.rows:  # groups under 5 are hidden (and a complementary one where needed)
        assert r.suppressed or len(ratios[r.groups["level"]]) >= 5
    assert any(len(ratios[r.groups["level"]]) < 5 for r in ans.rows if r.suppressed)


def test_mandatory_completion_rate_counts_completions_by_the_due_date(demo: str) -> None:
    start, end = date(2026, 7, 1), date(2026, 9, 30)
    with session_scope(demo) as s:
        mandatory = set(s.scalars(select(Course.id).where(Course.mandatory.is_(True))))
        jobs = defaultdict(list)
        for j in s.scalars(select(JobAssignment)):
            jobs[j.employee_id].append(j)
        # placed by the job in force on the due day: records of people gone by then count nowhere
        due = [
            r
            for r in s.scalars(select(LearningRecord).where(LearningRecord.due_on.between(start, end)))
            if r.course_id in mandatory
            and r.status != "withdrawn"
            and any(
                j.valid_from <= r.due_on and (j.valid_to is None or j.valid_to > r.due_on)
                for j in jobs[r.employee_id]
            )
        ]
        done = sum(
            1
            for r in s.scalars(select(LearningRecord).where(LearningRecord.completed_on.between(start, end)))
            if r.course_id in mandatory and r.status != "withdrawn"
        )
    on_time = sum(1 for r in due if r.completed_on and r.completed_on <= r.due_on)
    assert due, "the demo company has mandatory training due last quarter"
    ans = _ask(
        demo, "admin", metrics=["mandatory_completion_rate", "mandatory_completions"], period=LAST_QUARTER
    )
    [row] = ans.rows
    assert row.values["mandatory_completion_rate"] == pytest.approx(100 * on_time / len(due))
    assert row.values["mandatory_completions"] == done


def test_splits_by_manager_course_and_job_title(demo: str) -> None:
    with session_scope(demo) as s:
        jobs = s.scalars(select(JobAssignment).where(*queries.in_force(JobAssignment, TODAY))).all()
        names = dict(s.execute(select(Employee.id, Employee.display_name)).all())
        by_manager = Counter(names[j.manager_id] if j.manager_id else "(no manager)" for j in jobs)
        by_title = Counter(j.title for j in jobs)
        titles = dict(s.execute(select(Course.id, Course.title)).all())
        month = (date(2026, 10, 1), date(2026, 10, 31))
        by_course = Counter(
            titles[r.course_id]
            for r in s.scalars(select(LearningRecord).where(LearningRecord.completed_on.between(*month)))
            if r.status != "withdrawn"
        )
    got = _ask(demo, "admin", metrics=["headcount"], by=["manager"])
    assert {r.groups["manager"]: r.values["headcount"] for r in got.rows} == {
        k: float(v) for k, v in by_manager.items()
    }
    got = _ask(demo, "admin", metrics=["headcount"], by=["job_title"])
    assert {r.groups["job_title"]: r.values["headcount"] for r in got.rows} == {
        k: float(v) for k, v in by_title.items()
    }
    got = _ask(demo, "admin", metrics=["completions"], by=["course"], period={"relative": "last_month"})
    assert {r.groups["course"]: r.values["completions"] for r in got.rows} == {
        k: float(v) for k, v in by_course.items()
    }
    with pytest.raises(Refused, match="headcount cannot be split by course"):
        _ask(demo, "admin", metrics=["headcount"], by=["course"])


def test_daily_and_weekly_trends(demo: str) -> None:
    with session_scope(demo) as s:
        hires = Counter(
            s.scalars(select(Employee.hire_date).where(Employee.hire_date >= TODAY - timedelta(days=29)))
        )
    daily = _ask(demo, "admin", metrics=["hires"], grain="day", period={"relative": "last_30_days"})
    assert len(daily.rows) == 30 and daily.rows[0].period == str(TODAY - timedelta(days=29))
    assert {r.period: r.values["hires"] for r in daily.rows if r.values["hires"]} == {
        str(d): float(n) for d, n in hires.items()
    }
    weekly = _ask(demo, "admin", metrics=["training_hours"], grain="week", period={"relative": "this_month"})
    # November 2026 up to the 23rd: weeks 44 (from Sunday 1 Nov) to 48 (Monday 23 Nov)
    assert [r.period for r in weekly.rows] == ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"]
    with pytest.raises(Refused, match=f"at most {MAX_BUCKETS}"):
        _ask(demo, "admin", metrics=["hires"], grain="day", period={"relative": "this_year"})


def test_a_figure_differing_from_an_earlier_one_by_a_few_people_is_hidden(demo: str) -> None:
    """Average pay for everyone, then for everyone but a level of 1 to 4 people: the second would
    give away their pay, so it is hidden for that asker (not for someone who never saw the first)."""
    cny = Counter(j.level for j, p in _pay_today(demo) if p.currency == "CNY")
    small = next(level for level, n in sorted(cny.items()) if 1 <= n < 5)
    others = sorted(level for level in cny if level != small)

    def pay(who: str, **query) -> tuple[dict[str, float | None], list[str]]:
        with session_scope(demo, write=True) as s:  # shown figures are remembered
            ans = answer(
                s,
                resolve_principal(s, who, TODAY),
                AnalyticsQuery.model_validate({"metrics": ["average_base_pay"], **query}),
                TODAY,
            )
        return {r.groups["currency"]: r.values["average_base_pay"] for r in ans.rows}, ans.notes

    everyone, notes = pay("admin")
    assert everyone["CNY"] is not None and not any("differ" in n for n in notes)
    again, _ = pay("admin")
    assert again["CNY"] == everyone["CNY"]  # the same people: the same figure, shown again
    narrowed, notes = pay("admin", filters={"level": others})
    assert narrowed["CNY"] is None
    assert "by fewer than 5 people" in notes[-1] and "hidden" in notes[-1]
    with session_scope(demo) as s:  # someone else with the whole company in scope
        other = s.scalar(select(UserRole.username).where(UserRole.role == "hr_ops").limit(1))
    fresh, notes = pay(other, filters={"level": others})  # another asker saw nothing before
    assert fresh["CNY"] is not None and not any("differ" in n for n in notes)
