"""The semantic layer: typed queries answered through the catalogue, scoped to the asker, small
sensitive groups suppressed; numbers checked against plain Python over the same store."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import sqlglot
from sqlalchemy import select

from tests.conftest import TODAY
from tools.analytics.engine import Refused, answer
from tools.analytics.query import AnalyticsQuery, Period, buckets
from tools.store import queries
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import Employee, JobAssignment, LearningRecord

YEAR_2025 = {"start": "2025-01-01", "end": "2025-12-31"}


def _ask(url: str, who: str, **query) -> object:
    with session_scope(url, write=True) as s:  # sensitive figures shown are remembered
        return answer(s, resolve_principal(s, who, TODAY), AnalyticsQuery.model_validate(query), TODAY)


def _by(ans, metric: str) -> dict[str, float | None]:
    return {"/".join(r.groups.values()) or r.period: r.values[metric] for r in ans.rows}


def test_headcount_by_unit_is_scoped_to_the_asker(company: str) -> None:
    everyone = _ask(
        company, "admin", metrics=["headcount"], by=["org_unit"], period={"relative": "this_month"}
    )
    assert _by(everyone, "headcount") == {"ROOT": 2, "ENG-PLAT": 2}  # Tom Baker left in 2025
    assert "scope: the whole company" in everyone.provenance and "4 people counted" in everyone.provenance
    mine = _ask(company, "li.wei", metrics=["headcount"], by=["org_unit"])
    assert _by(mine, "headcount") == {"ENG-PLAT": 2} and "scope: Platform" in mine.provenance
    assert all("org_unit_id IN (2)" in sql for sql in mine.sql)  # the scope is in the SQL itself
    with pytest.raises(Refused, match="no org unit ROOT in Platform"):
        _ask(company, "li.wei", metrics=["headcount"], org_unit="ROOT")
    with pytest.raises(Refused, match="for managers, HRBPs and HR"):
        _ask(company, "wang.fang", metrics=["headcount"])


def test_leavers_and_attrition_follow_their_stated_definitions(company: str) -> None:
    ans = _ask(company, "admin", metrics=["leavers", "voluntary_leavers", "attrition_rate"], period=YEAR_2025)
    [row] = ans.rows
    # 1 leaver; average headcount (5 on 1 January, 4 on 31 December) = 4.5 -> 22.2 %.
    assert row.values["leavers"] == 1 and row.values["voluntary_leavers"] == 1
    assert row.values["attrition_rate"] == pytest.approx(100 / 4.5)
    involuntary = _ask(company, "admin", metrics=["involuntary_leavers"], period=YEAR_2025)
    assert [r.values["involuntary_leavers"] for r in involuntary.rows] == [0]


def test_small_groups_of_sensitive_figures_are_suppressed(company: str) -> None:
    ans = _ask(company, "admin", metrics=["average_base_pay"], by=["org_unit"])
    assert ans.rows and all(r.suppressed and r.values["average_base_pay"] is None for r in ans.rows)
    assert ans.notes == ["2 group(s) hidden: sensitive figures need at least 5 people"]
    whole = _ask(company, "admin", metrics=["average_base_pay"])  # 4 people: still too few
    assert whole.rows[0].suppressed and whole.rows[0].groups == {"currency": "CNY"}


def test_trends_and_comparisons_on_the_demo_company(demo: str) -> None:
    ans = _ask(
        demo,
        "admin",
        metrics=["hires"],
        grain="quarter",
        period=YEAR_2025,
        compare_to="same_period_last_year",
    )
    assert [r.period for r in ans.rows] == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    with session_scope(demo) as s:
        hires = Counter(
            f"{h.year}-Q{(h.month - 1) // 3 + 1}"
            for h in s.scalars(
                select(Employee.hire_date).where(
                    Employee.hire_date.between(date(2024, 1, 1), date(2025, 12, 31))
                )
            )
        )
    assert [r.values["hires"] for r in ans.rows] == [float(hires[f"2025-Q{i}"]) for i in range(1, 5)]
    assert [r.compared["hires"] for r in ans.rows] == [float(hires[f"2024-Q{i}"]) for i in range(1, 5)]
    assert sum(hires[f"2025-Q{i}"] for i in range(1, 5)) > 0


def test_headcount_by_location_and_training_hours_match_plain_python(demo: str) -> None:
    ans = _ask(demo, "admin", metrics=["headcount"], by=["location"], order="desc", top_n=3)
    with session_scope(demo) as s:
        places = Counter(
            j.location
            for j in s.scalars(select(JobAssignment).where(*queries.in_force(JobAssignment, TODAY)))
        )
        hours = sum(
            float(h)
            for h in s.scalars(
                select(LearningRecord.hours).where(
                    LearningRecord.completed_on.between(date(2026, 1, 1), TODAY)
                )
            )
        )
    assert [(r.groups["location"], r.values["headcount"]) for r in ans.rows] == [
        (loc, float(n)) for loc, n in places.most_common(3)
    ]
    ytd = _ask(demo, "admin", metrics=["training_hours"], period={"relative": "year_to_date"})
    assert ytd.rows[0].values["training_hours"] == pytest.approx(hours)


def test_sql_is_built_for_sqlite_and_postgres_without_pasted_text(company: str) -> None:
    ans = _ask(
        company, "li.wei", metrics=["attrition_rate"], by=["location"], filters={"location": ["Shang'hai"]}
    )
    for sql in ans.sql:
        assert "'Shang''hai'" in sql  # a quote in a value stays inside its literal
        pg = sqlglot.transpile(sql, read="sqlite", write="postgres")[0]
        assert sqlglot.parse_one(pg, read="postgres").find(sqlglot.exp.Select) is not None


def test_periods_resolve_and_split_by_fiscal_year() -> None:
    assert Period(relative="last_quarter").resolve(date(2026, 11, 23)) == (
        date(2026, 7, 1),
        date(2026, 9, 30),
    )
    assert Period(relative="year_to_date").resolve(date(2026, 11, 23), 4) == (
        date(2026, 4, 1),
        date(2026, 11, 23),
    )
    assert [b[0] for b in buckets(date(2026, 1, 1), date(2026, 12, 31), "quarter", 4)] == [
        "FY2026-Q4",
        "FY2027-Q1",
        "FY2027-Q2",
        "FY2027-Q3",
    ]
    with pytest.raises(ValueError, match="either `relative` or both"):
        Period(start=date(2026, 1, 1))


def test_data_the_store_does_not_have_is_said_not_answered_with_zeros(company: str) -> None:
    # The tiny company has pay and no learning records and no genders.
    with pytest.raises(Refused, match="no learning records"):
        _ask(company, "admin", metrics=["completion_rate"])
    with pytest.raises(Refused, match="no genders"):
        _ask(company, "admin", metrics=["headcount"], by=["gender"])
    assert _ask(company, "admin", metrics=["average_base_pay"]).rows  # pay is there
