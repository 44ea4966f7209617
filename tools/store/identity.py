"""Who is acting: users, their roles and what part of the organisation each may see.

`employee` and `manager` are implied by the HR data (a user linked to an active employee; one
with direct reports); the other roles are granted in `user_roles`. Scope is decided here, in
code, never by a model.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tools.store import queries
from tools.store.models import Employee, JobAssignment, Role, User, UserRole

# Roles that see every employee.
ALL_SEEING = frozenset({Role.ADMIN, Role.HR_OPS})


class UnknownUser(LookupError):
    def __init__(self, who: str) -> None:
        super().__init__(
            f"unknown user {who!r}: give a username (e.g. 'li.wei') or an employee id (e.g. 'E100042'); "
            "`hrops users list` shows them"
        )


class FormerEmployee(UnknownUser):
    def __init__(self, who: str, left: object) -> None:
        LookupError.__init__(self, f"{who} left on {left} and can no longer act in the product")


class Principal(BaseModel):
    username: str
    display_name: str
    employee_id: str | None = None
    roles: frozenset[Role] = frozenset()
    hrbp_org_ids: frozenset[int] = frozenset()

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))


def resolve_principal(session: Session, who: str, as_of: date) -> Principal:
    """Find a user by username or by the employee id linked to it, with their effective roles."""
    user = session.scalar(
        select(User).where(or_(User.username == who, User.employee_id == who.upper()), User.active)
    )
    if user is None:
        raise UnknownUser(who)
    roles: set[Role] = set()
    hrbp_orgs: set[int] = set()
    for grant in session.scalars(select(UserRole).where(UserRole.username == user.username)):
        role = Role(grant.role)
        roles.add(role)
        if role is Role.HRBP and grant.org_unit_id is not None:
            hrbp_orgs.update(queries.subtree_ids(session, grant.org_unit_id))
    if user.employee_id:
        employee = session.get(Employee, user.employee_id)
        if employee is not None and not queries.employed_on(employee, as_of):
            # Granted roles lapse with employment: a leaver's account does nothing.
            raise FormerEmployee(user.username, employee.termination_date or "before being hired")
        roles.add(Role.EMPLOYEE)
        if queries.has_reports(session, user.employee_id, as_of):
            roles.add(Role.MANAGER)
    return Principal(
        username=user.username,
        display_name=user.display_name,
        employee_id=user.employee_id,
        roles=frozenset(roles),
        hrbp_org_ids=frozenset(hrbp_orgs),
    )


def user_for_employee(session: Session, employee_id: str) -> User | None:
    return session.scalar(select(User).where(User.employee_id == employee_id, User.active))


def can_see_employee(session: Session, principal: Principal, employee_id: str, as_of: date) -> bool:
    """Admin and HR ops: everyone. HRBP: their orgs. Manager: their reporting line. Anyone: self."""
    if principal.has(*ALL_SEEING) or principal.employee_id == employee_id:
        return True
    if principal.hrbp_org_ids:
        job = queries.current(session, JobAssignment, employee_id, as_of)
        if job is not None and job.org_unit_id in principal.hrbp_org_ids:
            return True
    if principal.has(Role.MANAGER) and principal.employee_id:
        return principal.employee_id in queries.manager_chain(session, employee_id, as_of)
    return False
