"""Read tools over the employee directory: work profiles and search."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hrops.clock import today
from tools.hr.access import principal, store, visible_employee
from tools.hr.schemas import EmployeeMatches, EmployeeProfile, EmployeeRef, EmployeeSearch
from tools.registry import ALL_ROLES, Risk, ToolContext, tool
from tools.store import queries
from tools.store.identity import can_see_employee
from tools.store.models import Employee, JobAssignment, OrgUnit


def profile_of(session: Session, employee: Employee) -> EmployeeProfile:
    """The work profile as of today (the last assignment for a leaver)."""
    job = queries.current(session, JobAssignment, employee.id, today())
    if job is None and employee.termination_date:
        job = session.scalar(
            select(JobAssignment)
            .where(JobAssignment.employee_id == employee.id)
            .order_by(JobAssignment.valid_from.desc())
            .limit(1)
        )
    org = session.get(OrgUnit, job.org_unit_id) if job else None
    return EmployeeProfile(
        employee_id=employee.id,
        display_name=employee.display_name,
        status="active"
        if queries.employed_on(employee, today())
        else ("terminated" if employee.termination_date else "not started"),
        title=job.title if job else None,
        org_unit_code=org.code if org else None,
        org_unit_name=org.name if org else None,
        manager_id=job.manager_id if job else None,
        location=job.location if job else None,
        hire_date=employee.hire_date,
        termination_date=employee.termination_date,
    )


@tool("employee.profile", risk=Risk.READ, roles=ALL_ROLES)
def employee_profile(ctx: ToolContext, args: EmployeeRef) -> EmployeeProfile:
    """Work profile of one employee: name, status, title, org unit, manager and location.
    No personal data."""
    with store() as session:
        return profile_of(session, visible_employee(session, ctx, args.employee_id))


@tool("employee.find", risk=Risk.READ, roles=ALL_ROLES)
def employee_find(ctx: ToolContext, args: EmployeeSearch) -> EmployeeMatches:
    """Find employees the caller may see by part of a name, a work email or an id."""
    needle = args.text.strip().lower()
    stmt = (
        select(Employee)
        .where(
            or_(
                func.lower(Employee.display_name).contains(needle, autoescape=True),
                func.lower(Employee.given_name + " " + Employee.family_name).contains(
                    needle, autoescape=True
                ),
                func.lower(Employee.work_email).contains(needle, autoescape=True),
                Employee.id == needle.upper(),
            )
        )
        .order_by(Employee.status, Employee.id)
    )
    with store() as session:
        who = principal(session, ctx)
        found: list[EmployeeProfile] = []
        # Scope is decided per row in code; read on until enough visible matches are found.
        for employee in session.scalars(stmt.execution_options(yield_per=500)):
            if can_see_employee(session, who, employee.id, today()):
                found.append(profile_of(session, employee))
                if len(found) == args.limit:
                    break
        return EmployeeMatches(matches=found)
