"""Read queries every tool shares: the org tree, effective-dated rows as of a day, reporting lines."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from tools.store.models import Compensation, Employee, EmployeeAddress, JobAssignment, OrgUnit, StoreMeta

Dated = TypeVar("Dated", JobAssignment, Compensation, EmployeeAddress)

# A reporting chain longer than this is a data error (a cycle), not a real organisation.
MAX_CHAIN = 30
# store_meta keys of the files `hrops import employees` imported (tools/employee_io/importer.py).
IMPORTS_PREFIX = "import:employees:"


def employed_on(employee: Employee, day: date) -> bool:
    """Employed on `day`: the dates decide, not the `status` column (a termination date passes
    without anyone updating a row)."""
    return employee.hire_date <= day and (
        employee.termination_date is None or day < employee.termination_date
    )


def in_force(model: type[Dated], as_of: date) -> list:
    """Conditions for rows of an effective-dated table that apply on `as_of` (half-open ranges)."""
    return [model.valid_from <= as_of, or_(model.valid_to.is_(None), model.valid_to > as_of)]


def current(session: Session, model: type[Dated], employee_id: str, as_of: date) -> Dated | None:
    stmt: Select = (
        select(model)
        .where(model.employee_id == employee_id, *in_force(model, as_of))
        .order_by(model.valid_from.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def subtree_ids(session: Session, org_unit_id: int) -> list[int]:
    """The unit and every unit below it: one prefix match on the materialised path."""
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == org_unit_id))
    if path is None:
        return []
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(path, autoescape=True))))


def org_by_code(session: Session, code: str) -> OrgUnit | None:
    return session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def employees_in_orgs(session: Session, org_ids: list[int], as_of: date) -> Select:
    """Employees whose assignment on `as_of` is in one of the units (a select to refine further)."""
    return (
        select(Employee)
        .join(JobAssignment, and_(JobAssignment.employee_id == Employee.id, *in_force(JobAssignment, as_of)))
        .where(JobAssignment.org_unit_id.in_(org_ids))
    )


def manager_chain(session: Session, employee_id: str, as_of: date) -> list[str]:
    """Managers above the employee, nearest first. Stops at a cycle rather than looping."""
    chain: list[str] = []
    seen = {employee_id}
    current_id = employee_id
    for _ in range(MAX_CHAIN):
        job = current(session, JobAssignment, current_id, as_of)
        if job is None or job.manager_id is None or job.manager_id in seen:
            break
        chain.append(job.manager_id)
        seen.add(job.manager_id)
        current_id = job.manager_id
    return chain


def has_reports(session: Session, employee_id: str, as_of: date) -> bool:
    stmt = select(JobAssignment.id).where(
        JobAssignment.manager_id == employee_id, *in_force(JobAssignment, as_of)
    )
    return session.scalar(stmt.limit(1)) is not None


def recorded_imports(session: Session) -> list[dict[str, Any]]:
    """What store_meta keeps about every imported file: as-of date, mapping, whether it is a snapshot,
    where it landed, derived fields, facts (written by the employee importer)."""
    stmt = select(StoreMeta).where(StoreMeta.key.startswith(IMPORTS_PREFIX))
    return [m.value for m in session.scalars(stmt)]
