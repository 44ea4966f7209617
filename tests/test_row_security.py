"""Postgres row-level security behind org-scoped analytics: a manager's statements run as a
read-only role that sees only people who held a job in the manager's units, so even a statement
that lost its scope filter cannot count anyone else. (SQLite has no such second line.)"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import TODAY
from tools.analytics import engine
from tools.analytics.query import AnalyticsQuery
from tools.demo_company import SeedOptions, seed_store
from tools.store import queries, row_security
from tools.store.db import downgrade, migrate, session_scope
from tools.store.identity import Principal, resolve_principal
from tools.store.models import Compensation, Employee, JobAssignment, OrgUnit, User

HEADCOUNT = AnalyticsQuery(metrics=["headcount"])


def _seed(url: str) -> None:
    seed_store(
        url,
        SeedOptions(employees=60, seed=7, learning_per_employee=2, as_of=date(2026, 11, 23)),
        actor="admin",
    )


def _a_manager(url: str) -> tuple[Principal, frozenset[int], int]:
    """A manager heading part of the company (not all of it), their units, and the people in them today."""
    with session_scope(url) as s:
        total = len(s.scalars(select(OrgUnit.id)).all())
        for unit in s.scalars(
            select(OrgUnit).where(OrgUnit.head_employee_id.is_not(None)).order_by(OrgUnit.id)
        ):
            ids = frozenset(queries.subtree_ids(s, unit.id))
            user = s.scalar(select(User).where(User.employee_id == unit.head_employee_id))
            if user is None or len(ids) == total:
                continue
            who = resolve_principal(s, user.username, TODAY)
            scope = engine.scope_for(s, who, TODAY)
            people = s.scalar(
                select(func.count(func.distinct(JobAssignment.employee_id))).where(
                    JobAssignment.org_unit_id.in_(scope.org_ids),
                    JobAssignment.valid_from <= TODAY,
                    (JobAssignment.valid_to.is_(None)) | (JobAssignment.valid_to > TODAY),
                )
            )
            if people:
                return who, scope.org_ids, people
    raise AssertionError("the demo company has no manager of part of it")


def _headcount(url: str, who: Principal) -> float:
    with session_scope(url, write=True) as s:
        [row] = engine.answer(s, who, HEADCOUNT, TODAY).rows
        if s.get_bind().dialect.name == "postgresql":  # the rest of the transaction is the store's user again
            assert s.execute(text("SELECT current_user")).scalar_one() != row_security.ROLE
    return row.values["headcount"]


def _without_scope_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compiler bug: every statement loses the asker's org filter."""
    real = engine.build

    def unscoped(metric, measure, s, e, dims, filters, ids, *rest, **kw):  # noqa: ANN001, ANN202
        return real(metric, measure, s, e, dims, filters, None, *rest, **kw)

    monkeypatch.setattr(engine, "build", unscoped)


def test_a_statement_that_lost_its_scope_filter_still_counts_only_the_managers_people(
    pg_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'same.db'}"
    migrate(sqlite_url)
    for url in (pg_url, sqlite_url):
        _seed(url)
    who, _, people = _a_manager(pg_url)
    with session_scope(pg_url) as s:
        everyone = s.scalar(select(func.count()).select_from(Employee))
    assert _headcount(pg_url, who) == _headcount(sqlite_url, who) == people < everyone

    _without_scope_filter(monkeypatch)
    assert _headcount(pg_url, who) == people  # Postgres: the policies hold the line
    assert _headcount(sqlite_url, who) > people  # SQLite: the same bug counts other people


def test_the_scoped_reader_sees_only_people_of_its_units_reads_only_and_fails_closed(pg_url: str) -> None:
    _seed(pg_url)
    _, units, _ = _a_manager(pg_url)
    with session_scope(pg_url) as s:
        ever_in_units = set(
            s.scalars(select(JobAssignment.employee_id).where(JobAssignment.org_unit_id.in_(units)))
        )
        all_pay_rows = s.scalar(select(func.count()).select_from(Compensation))
    with session_scope(pg_url, write=True) as s:
        with row_security.limited_to(s, units):
            seen = set(s.scalars(select(Employee.id)))
            pay_of = set(s.scalars(select(Compensation.employee_id)))
            pay_rows = s.scalar(select(func.count()).select_from(Compensation))
            raw = s.execute(text("SELECT count(*) FROM learning_records")).scalar_one()
        assert seen == ever_in_units and pay_of <= ever_in_units and pay_rows < all_pay_rows
        assert raw > 0
        # Back to the store's own user after the block: everyone again.
        assert s.scalar(select(func.count()).select_from(Employee)) > len(seen)

    with (
        pytest.raises(DBAPIError, match="permission denied"),
        session_scope(pg_url, write=True) as s,
        row_security.limited_to(s, units),
    ):
        s.execute(text("UPDATE employees SET display_name = 'x'"))

    # The role without any units (the setting missing) sees no one, rather than everyone.
    with session_scope(pg_url, write=True) as s:
        s.execute(text(f"SET LOCAL ROLE {row_security.ROLE}"))
        assert s.execute(text("SELECT count(*) FROM employees")).scalar_one() == 0


def test_the_row_security_migration_goes_down_and_up_again(pg_url: str) -> None:
    downgrade(pg_url, "0013")
    with session_scope(pg_url) as s:
        assert not s.execute(
            text("SELECT relrowsecurity FROM pg_class WHERE relname = 'employees'")
        ).scalar_one()
    migrate(pg_url)
    with session_scope(pg_url) as s:
        assert s.execute(text("SELECT relrowsecurity FROM pg_class WHERE relname = 'employees'")).scalar_one()
