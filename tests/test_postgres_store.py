"""The same store code on Postgres: migrations, effective-dated writes, the audit guarantees.
Uses HROPS_TEST_DATABASE_URL (a server URL) or a local server on 127.0.0.1:5432; each run gets its
own database, dropped afterwards. Skipped, saying so, when no server answers."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests import company as tiny
from tools.hr.schemas import AddressChange
from tools.registry import ApprovalGrant, ToolContext, registry
from tools.store import audit
from tools.store.db import migrate, session_scope
from tools.store.models import EmployeeAddress, Role


def test_store_and_tools_work_on_postgres(pg_url: str) -> None:
    import tools.hr  # noqa: F401

    migrate(pg_url)
    migrate(pg_url)  # idempotent
    tiny.build(pg_url)
    change = {
        "employee_id": "E1003",
        "effective_on": "2026-11-23",
        "address": {"line1": "1 Jinke Road", "city": "Shanghai", "postcode": "201203", "country": "CN"},
    }
    grant = ApprovalGrant.for_args(
        AddressChange.model_validate(change),
        request_id="REQ-1",
        approver="li.wei",
        decided_at="2026-11-23T09:00:00Z",
    )
    ctx = ToolContext(actor="amy.hughes", roles=frozenset({Role.HR_OPS}), request_id="REQ-1", approval=grant)
    assert registry.call("employee.check_address_change", ctx, change).ok
    applied = registry.call("employee.change_address", ctx, change)
    assert registry.call("employee.change_address", ctx, change).already_applied
    with session_scope(pg_url) as s:
        rows = s.execute(
            select(EmployeeAddress.id, EmployeeAddress.valid_to)
            .where(EmployeeAddress.employee_id == "E1003")
            .order_by(EmployeeAddress.valid_from)
        ).all()
        assert rows[-1].id == applied.record_id and rows[0].valid_to is not None
        assert audit.verify_chain(s) == []
    with pytest.raises(DBAPIError, match="append-only"), session_scope(pg_url, write=True) as s:
        s.execute(text("DELETE FROM audit_log"))


def test_analytics_answers_the_same_on_postgres(pg_url: str) -> None:
    from tests.conftest import TODAY
    from tools.analytics.engine import answer
    from tools.analytics.query import AnalyticsQuery
    from tools.store.identity import resolve_principal

    migrate(pg_url)
    tiny.build(pg_url)
    with session_scope(pg_url) as s:
        admin = resolve_principal(s, "admin", TODAY)
        q = AnalyticsQuery(metrics=["headcount", "average_tenure"], by=["org_unit"])
        got = {r.groups["org_unit"]: r.values["headcount"] for r in answer(s, admin, q, TODAY).rows}
        year = AnalyticsQuery(
            metrics=["attrition_rate", "average_tenure"],
            period={"start": "2025-01-01", "end": "2025-12-31"},
        )
        [row] = answer(s, admin, year, TODAY).rows
    assert got == {"ROOT": 2, "ENG-PLAT": 2}
    assert round(row.values["attrition_rate"], 1) == 22.2 and row.values["average_tenure"] > 5


def test_every_kind_of_statement_answers_the_same_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """The demo company on SQLite and on Postgres: the same typed queries, the same answers (median
    by window functions, compa-ratio, batched learning measures, weekly buckets, splits by manager
    and course), and the differencing check writes on Postgres too."""
    from datetime import date

    from tests.conftest import TODAY
    from tools.analytics.engine import answer
    from tools.analytics.query import AnalyticsQuery
    from tools.demo_company import SeedOptions, seed_store
    from tools.store.identity import resolve_principal

    sqlite_url = f"sqlite:///{tmp_path / 'compare.db'}"
    migrate(sqlite_url)
    options = SeedOptions(employees=60, seed=7, learning_per_employee=6, as_of=date(2026, 11, 23))
    for url in (pg_url, sqlite_url):
        seed_store(url, options, actor="admin")
    queries = [
        {"metrics": ["median_base_pay", "average_base_pay"], "by": ["location"]},
        {"metrics": ["compa_ratio"], "by": ["level"]},
        {
            "metrics": ["training_hours", "completions", "active_learners"],
            "period": {"relative": "last_12_months"},
        },
        {
            "metrics": ["completion_rate", "mandatory_completion_rate"],
            "by": ["course_category"],
            "period": {"relative": "this_year"},
        },
        {"metrics": ["hires"], "grain": "week", "period": {"relative": "last_quarter"}},
        {"metrics": ["headcount"], "by": ["manager"]},
        {
            "metrics": ["enrolments"],
            "by": ["course"],
            "period": {"relative": "this_year"},
            "order": "desc",
            "top_n": 5,
        },
        {"metrics": ["attrition_rate"], "by": ["org_unit"], "period": {"relative": "last_12_months"}},
    ]

    def answers(url: str) -> list[list[tuple]]:
        out = []
        with session_scope(url, write=True) as s:
            admin = resolve_principal(s, "admin", TODAY)
            for q in queries:
                rows = answer(s, admin, AnalyticsQuery.model_validate(q), TODAY).rows
                out.append([(r.period, r.groups, r.suppressed, r.values) for r in rows])
        return out

    on_postgres = answers(pg_url)
    assert all(on_postgres)  # every query has rows to compare
    for got, want in zip(on_postgres, answers(sqlite_url), strict=True):
        assert [(p, g, h) for p, g, h, _ in got] == [(p, g, h) for p, g, h, _ in want]
        for (_, _, _, a), (_, _, _, b) in zip(got, want, strict=True):
            assert a.keys() == b.keys()
            assert all(a[k] == pytest.approx(b[k]) for k in a), (a, b)
    with session_scope(pg_url) as s:
        assert s.scalar(text("SELECT COUNT(*) FROM analytics_releases")) > 0  # sensitive figures remembered


async def test_chat_threads_are_kept_in_postgres_with_a_postgres_store(pg_url: str) -> None:
    """Two messages, two savers (as two API processes would have): the second answers the question
    the first asked, because the thread lives in Postgres."""
    from hrops import assistant_service
    from hrops.settings import get_settings
    from tests.conftest import TODAY
    from tools.store.identity import resolve_principal

    migrate(pg_url)
    tiny.build(pg_url)
    with session_scope(pg_url) as s:
        amy = resolve_principal(s, "amy.hughes", TODAY)
    first = await assistant_service.chat(None, amy, "pg", "王芳职位变更", get_settings())
    assert first.outcome.asked == "new_title"
    second = await assistant_service.chat(None, amy, "pg", "高级数据工程师", get_settings())
    assert second.outcome.asked == "effective_on" and second.outcome.fields["new_title"] == "高级数据工程师"
    with session_scope(pg_url) as s:
        assert s.scalar(text("SELECT COUNT(*) FROM checkpoints")) >= 2
    assert not (get_settings().var_dir / "assistant.db").exists()


def test_hires_in_parallel_get_different_employee_ids(pg_url: str) -> None:
    """Two onboardings creating their employee at once (two workers, one Postgres): each reads the
    highest id and takes the next, so without a lock both would take the same one."""
    import threading
    import time
    from datetime import UTC, datetime

    from tools.onboarding.hire import _next_id
    from tools.store.models import Employee

    tiny.build(pg_url)
    both_read = threading.Barrier(2, timeout=5)
    taken: list[str] = []
    errors: list[Exception] = []

    def hire(n: int) -> None:
        try:
            with session_scope(pg_url, write=True) as s:
                new_id = _next_id(s)
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_read.wait()  # with the lock the second waits in _next_id instead
                time.sleep(0.2)
                s.add(
                    Employee(
                        id=new_id,
                        given_name=f"Parallel{n}",
                        family_name="Hire",
                        display_name=f"Parallel{n} Hire",
                        hire_date=datetime(2026, 12, 1, tzinfo=UTC).date(),
                        status="active",
                        created_at=datetime(2026, 12, 1, tzinfo=UTC),
                    )
                )
            taken.append(new_id)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=hire, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and len(set(taken)) == 2, (taken, errors)
