"""The demo company: deterministic, realistic, consistent history, idempotent seeding."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from hrops.cli import app
from hrops.cli.common import CliError
from tests.conftest import TODAY
from tools.demo_company import SeedOptions, StoreNotEmpty, seed_store
from tools.store import queries
from tools.store.db import engine_for, session_scope
from tools.store.identity import resolve_principal
from tools.store.models import (
    AuditEntry,
    Base,
    Compensation,
    Employee,
    JobAssignment,
    LearningRecord,
    OrgUnit,
    Role,
)

OPTIONS = SeedOptions(employees=200, seed=7, as_of=TODAY)
TABLES = [t.name for t in Base.metadata.sorted_tables if t.name not in {"audit_log", "store_meta"}]


def _plain(value: object) -> object:
    """A value as both stores give it back: decimals and instants differ only in form."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    return value


def _digest(url: str) -> str:
    """The store's content, the same for the same rows on SQLite and on Postgres (sorted here:
    the two order text differently)."""
    h = hashlib.sha256()
    with engine_for(url).connect() as conn:
        for table in TABLES:
            cols = [
                c for c in Base.metadata.tables[table].columns if c.name not in ("created_at", "imported_at")
            ]
            rows = sorted(repr(tuple(_plain(v) for v in row)) for row in conn.execute(select(*cols)))
            for row in rows:
                h.update(row.encode())
    return h.hexdigest()


@pytest.fixture
def seeded(store_url: str) -> str:
    seed_store(store_url, OPTIONS)
    return store_url


def test_same_seed_same_company_other_seed_other_company(tmp_path, seeded: str) -> None:
    again = f"sqlite:///{tmp_path / 'again.db'}"
    other = f"sqlite:///{tmp_path / 'other.db'}"
    seed_store(again, OPTIONS)
    seed_store(other, OPTIONS.model_copy(update={"seed": 8}))
    assert _digest(seeded) == _digest(again) != _digest(other)


def test_hierarchy_is_one_tree_and_every_active_employee_has_an_active_manager(seeded: str) -> None:
    with session_scope(seeded) as s:
        roots = s.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).all()
        assert [r.kind for r in roots] == ["company"]
        active = s.scalars(select(Employee.id).where(Employee.status == "active")).all()
        assert len(active) == OPTIONS.employees
        without_manager = []
        for eid in active:
            job = queries.current(s, JobAssignment, eid, TODAY)
            assert job is not None, f"{eid} is active without an assignment"
            if job.manager_id is None:
                without_manager.append(eid)
                continue
            boss = s.get(Employee, job.manager_id)
            assert boss.status == "active" and queries.current(s, JobAssignment, boss.id, TODAY) is not None
            unit = s.get(OrgUnit, job.org_unit_id)
            boss_unit = s.get(OrgUnit, queries.current(s, JobAssignment, boss.id, TODAY).org_unit_id)
            assert unit.path.startswith(boss_unit.path), f"{eid}'s manager heads an unrelated unit"
            chain = queries.manager_chain(s, eid, TODAY)
            assert chain[-1] == roots[0].head_employee_id  # every line ends at the CEO, no cycles
        assert without_manager == [roots[0].head_employee_id]
        kinds = Counter(s.scalars(select(OrgUnit.kind)))
        assert kinds["division"] == 8 and kinds["department"] >= 8 and kinds["team"] >= 8


def test_names_are_english_and_chinese_and_contacts_unique(seeded: str) -> None:
    with session_scope(seeded) as s:
        names = s.scalars(select(Employee.display_name)).all()
        emails = s.scalars(select(Employee.work_email)).all()
    chinese = [n for n in names if any("\u4e00" <= ch <= "\u9fff" for ch in n)]
    assert 0.2 < len(chinese) / len(names) < 0.9
    assert any(" " in n for n in names)
    assert len(set(emails)) == len(emails)


def test_three_years_of_history(seeded: str) -> None:
    years = range(TODAY.year - 2, TODAY.year + 1)
    with engine_for(seeded).connect() as conn:

        def by_year(kind: Any, day: Any) -> Counter[tuple[str, int]]:
            return Counter((k, d.year) for k, d in conn.execute(select(kind, day).where(day.is_not(None))))

        moves = by_year(JobAssignment.change_reason, JobAssignment.valid_from)
        leavers = by_year(Employee.leaver_type, Employee.termination_date)
        pay = by_year(Compensation.change_reason, Compensation.valid_from)
        for y in years:
            assert moves.get(("hire", y)) and moves.get(("transfer", y)) and moves.get(("promotion", y)), y
            assert leavers.get(("voluntary", y)) and leavers.get(("involuntary", y)), y
            assert pay.get(("merit", y)), y
        for table in ("job_assignments", "compensation", "employee_addresses"):
            overlaps = conn.execute(
                text(
                    f"SELECT count(*) FROM {table} a JOIN {table} b ON a.employee_id = b.employee_id AND a.id < b.id "
                    "AND a.valid_from < coalesce(b.valid_to, '9999-12-31') AND b.valid_from < coalesce(a.valid_to, '9999-12-31')"
                )
            ).scalar()
            gaps = conn.execute(
                text(
                    f"SELECT count(*) FROM {table} a JOIN employees e ON e.id = a.employee_id WHERE a.valid_to IS NOT NULL "
                    f"AND (e.termination_date IS NULL OR a.valid_to < e.termination_date) AND NOT EXISTS "
                    f"(SELECT 1 FROM {table} b WHERE b.employee_id = a.employee_id AND b.valid_from = a.valid_to)"
                )
            ).scalar()
            first = conn.execute(
                text(
                    f"SELECT count(*) FROM employees e WHERE NOT EXISTS (SELECT 1 FROM {table} a "
                    "WHERE a.employee_id = e.id AND a.valid_from = e.hire_date)"
                )
            ).scalar()
            assert (overlaps, gaps, first) == (0, 0, 0), table
        leaver_open = conn.execute(
            text(
                "SELECT count(*) FROM job_assignments a JOIN employees e ON e.id = a.employee_id "
                "WHERE e.termination_date IS NOT NULL AND (a.valid_to IS NULL OR a.valid_to > e.termination_date)"
            )
        ).scalar()
        assert leaver_open == 0


def test_learning_has_seasonality_and_overdue_mandatory_training(seeded: str) -> None:
    with engine_for(seeded).connect() as conn:
        enrolled = select(LearningRecord.enrolled_on).where(LearningRecord.due_on.is_(None))
        months = Counter(f"{d:%m}" for d in conn.scalars(enrolled))
        overdue = conn.execute(
            text(
                "SELECT count(*) FROM learning_records r JOIN employees e ON e.id = r.employee_id "
                "WHERE e.status = 'active' AND r.due_on < :today AND r.completed_on IS NULL"
            ),
            {"today": TODAY},
        ).scalar()
        total = conn.execute(text("SELECT count(*) FROM learning_records")).scalar()
        outside = conn.execute(
            text(
                "SELECT count(*) FROM learning_records r JOIN employees e ON e.id = r.employee_id "
                "WHERE r.enrolled_on < e.hire_date OR (e.termination_date IS NOT NULL AND r.enrolled_on >= e.termination_date)"
            )
        ).scalar()
    assert months["03"] > 1.8 * months["08"] and months["11"] > 1.5 * months["12"]
    assert overdue > 0 and outside == 0
    assert (
        0.8 * OPTIONS.learning_per_employee * OPTIONS.employees
        < total
        < 1.4 * OPTIONS.learning_per_employee * OPTIONS.employees
    )


def test_users_and_roles(seeded: str) -> None:
    report = seed_store(seeded, OPTIONS)
    assert report.already_seeded
    accounts = report.demo_accounts
    with session_scope(seeded) as s:
        assert Role.ADMIN in resolve_principal(s, "admin", TODAY).roles
        assert Role.HR_OPS in resolve_principal(s, accounts["hr_ops"], TODAY).roles
        assert Role.COMP_ANALYST in resolve_principal(s, accounts["comp_analyst"], TODAY).roles
        hrbp = resolve_principal(s, accounts["hrbp:ENG"], TODAY)
        eng = s.scalar(select(OrgUnit).where(OrgUnit.code == "ENG"))
        assert Role.HRBP in hrbp.roles and eng.id in hrbp.hrbp_org_ids
        assert set(queries.subtree_ids(s, eng.id)) <= hrbp.hrbp_org_ids
        ceo = s.scalar(select(OrgUnit.head_employee_id).where(OrgUnit.parent_id.is_(None)))
        assert Role.MANAGER in resolve_principal(s, ceo, TODAY).roles


def test_idempotent_refuses_other_options_and_reset_replaces(seeded: str) -> None:
    with session_scope(seeded) as s:
        before = s.scalar(select(text("count(*)")).select_from(Employee))
    assert seed_store(seeded, OPTIONS).already_seeded
    with pytest.raises(StoreNotEmpty, match="--employees 200 --seed 7.*hrops seed --reset"):
        seed_store(seeded, OPTIONS.model_copy(update={"seed": 9}))
    report = seed_store(seeded, OPTIONS.model_copy(update={"employees": 120}), reset=True)
    assert report.active == 120 and not report.already_seeded
    with session_scope(seeded) as s:
        assert s.scalar(select(text("count(*)")).select_from(Employee)) == report.employees != before
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    # The reset, each handbook document imported into the policy knowledge base, then the seed.
    assert actions == ["store.reset", *["kb.document.imported"] * report.policy_documents, "store.seeded"]


def test_a_seeded_store_takes_new_rows_after_the_seeded_ones(seeded: str) -> None:
    """The seed writes units with their ids; the store must still number the next unit itself."""
    with session_scope(seeded, write=True) as s:
        root = s.scalar(select(OrgUnit).where(OrgUnit.parent_id.is_(None)))
        highest = s.scalar(select(func.max(OrgUnit.id)))
        unit = OrgUnit(code="NEW", name="New division", kind="division", parent_id=root.id, path="", depth=1)
        s.add(unit)
        s.flush()
        assert unit.id > highest


def test_cli(store_url: str) -> None:
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["seed", "--employees", "80", "--seed", "3", "--as-of", "2026-06-30"],
        env={"COLUMNS": "200"},
        catch_exceptions=False,
    ).output
    assert "employees" in out and "hr_ops" in out
    assert (
        "already seeded"
        in runner.invoke(app, ["seed", "--employees", "80", "--seed", "3", "--as-of", "2026-06-30"]).output
    )
    with pytest.raises(CliError, match="at least 60"):
        runner.invoke(app, ["seed", "--employees", "5"], catch_exceptions=False)
    with pytest.raises(CliError, match="not a date"):
        runner.invoke(app, ["seed", "--as-of", "30/06/2026"], catch_exceptions=False)
    with session_scope(store_url) as s:
        assert s.scalar(select(Employee.hire_date).order_by(Employee.hire_date.desc()).limit(1)) <= date(
            2026, 6, 30
        )
