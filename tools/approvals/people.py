"""Turn an approval chain's steps into people: managers from the reporting line, HRBPs by the
organisation they cover, role holders; never the requester; delegates of anyone who is away.

Pure reads of the HR store; the tools in `tools/hr/approvers.py` expose them to workflows.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.approvals.rules import Step
from tools.hr.schemas import ApproverRef
from tools.store import queries
from tools.store.identity import user_for_employee
from tools.store.models import Delegation, Employee, JobAssignment, OrgUnit, Role, User, UserRole


class NobodyToApprove(LookupError):
    """A step has no one who may decide it: the request cannot be routed."""


def approver_ref(user: User, on_behalf_of: str | None = None) -> ApproverRef:
    return ApproverRef(
        username=user.username,
        employee_id=user.employee_id,
        display_name=user.display_name,
        on_behalf_of=on_behalf_of,
    )


def _employed_user(session: Session, employee_id: str, day: date) -> User | None:
    employee = session.get(Employee, employee_id)
    if employee is None or not queries.employed_on(employee, day):
        return None
    return user_for_employee(session, employee_id)


def _line(
    session: Session, employee_id: str, day: date, skip: int, requester: str | None
) -> tuple[User, str]:
    """The `skip`-th manager above the employee who has an account and is not the requester."""
    chain = queries.manager_chain(session, employee_id, day)
    candidates = [(i, m) for i, m in enumerate(chain) if i >= skip]
    for i, manager_id in candidates:
        user = _employed_user(session, manager_id, day)
        if user is None or user.username == requester:
            continue
        how = (
            ["the employee's manager", "the manager's manager"][i] if i < 2 else f"the manager {i} levels up"
        )
        if i > skip:
            how += " (a nearer manager asked for it or has no account)"
        return user, how
    raise NobodyToApprove(
        f"no manager above {employee_id} can approve (none with an account, or only the requester)"
    )


def _role_holders(session: Session, role: Role, requester: str | None) -> list[User]:
    users = session.scalars(
        select(User)
        .join(UserRole, UserRole.username == User.username)
        .where(UserRole.role == role, User.active)
        .order_by(User.username)
        .distinct()
    )
    return [u for u in users if u.username != requester]


def _hrbps(session: Session, employee_id: str, day: date, requester: str | None) -> tuple[list[User], str]:
    """HRBPs whose granted organisation contains the employee's (the nearest such grant wins)."""
    job = queries.current(session, JobAssignment, employee_id, day)
    unit = session.get(OrgUnit, job.org_unit_id) if job else None
    if unit is not None:
        ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
        grants = session.execute(
            select(UserRole.org_unit_id, User)
            .join(User, User.username == UserRole.username)
            .where(UserRole.role == Role.HRBP, User.active, UserRole.org_unit_id.in_(ancestors))
        ).all()
        by_unit: dict[int, list[User]] = {}
        for unit_id, user in grants:
            if user.username != requester:
                by_unit.setdefault(unit_id, []).append(user)
        for unit_id in reversed(ancestors):  # nearest first
            if users := by_unit.get(unit_id):
                return sorted(
                    users, key=lambda u: u.username
                ), "the HRBP covering the employee's organisation"
    return _hr_ops_instead(session, requester, f"no HRBP covers {employee_id}'s organisation")


def _hr_ops_instead(session: Session, requester: str | None, because: str) -> tuple[list[User], str]:
    """When the organisation has nobody for a step, HR operations decide it."""
    ops = _role_holders(session, Role.HR_OPS, requester)
    if not ops:
        raise NobodyToApprove(f"{because} and no other HR ops user exists")
    return ops, f"{because}: HR ops decide instead"


def people_for(
    session: Session,
    step: Step,
    *,
    employee_id: str,
    day: date,
    requester: str | None,
    new_manager_id: str | None = None,
    subject_may_decide: bool = False,
) -> tuple[list[ApproverRef], str]:
    """The people who may decide `step`, and how they were chosen (in words). Neither the requester
    nor the employee the change is about ever decides it (`subject_may_decide`: `employee_id` only
    locates the people, as the hiring manager does for an onboarding)."""
    subject = None if subject_may_decide else user_for_employee(session, employee_id)
    people, how = _people_for(session, step, employee_id, day, requester, new_manager_id)
    kept = [p for p in people if subject is None or p.username != subject.username]
    if not kept:
        raise NobodyToApprove(f"only {employee_id} themselves could decide the {step.value} step")
    return kept, how


def _people_for(
    session: Session,
    step: Step,
    employee_id: str,
    day: date,
    requester: str | None,
    new_manager_id: str | None,
) -> tuple[list[ApproverRef], str]:
    if step in (Step.MANAGER, Step.SKIP_LEVEL):
        try:
            user, how = _line(session, employee_id, day, 0 if step is Step.MANAGER else 1, requester)
        except NobodyToApprove:  # the top of the organisation, or a line without accounts
            ops, how = _hr_ops_instead(session, requester, f"{employee_id} has no manager who can approve")
            return [approver_ref(u) for u in ops], how
        return [approver_ref(user)], how
    if step is Step.NEW_MANAGER:
        if not new_manager_id:
            raise NobodyToApprove("the change names no new manager")
        user = _employed_user(session, new_manager_id, day)
        if user is not None and user.username != requester:
            return [approver_ref(user)], "the new manager"
        boss, how = _line(session, new_manager_id, day, 0, requester)
        return [
            approver_ref(boss)
        ], f"the new manager's manager ({how}: the new manager asked for it or has no account)"
    if step is Step.HRBP:
        users, how = _hrbps(session, employee_id, day, requester)
        return [approver_ref(u) for u in users], how
    role = {Step.HR_OPS: Role.HR_OPS, Step.COMP_ANALYST: Role.COMP_ANALYST, Step.ADMIN: Role.ADMIN}[step]
    holders = _role_holders(session, role, requester)
    if not holders:
        raise NobodyToApprove(f"nobody but the requester holds the role {role.value}")
    return [approver_ref(u) for u in holders], f"anyone with the role {role.value}"


def delegates(
    session: Session, approvers: list[ApproverRef], day: date, requester: str | None
) -> list[ApproverRef]:
    """Who stands in, today, for any of these approvers (never the requester, one hop only)."""
    names = [a.username for a in approvers]
    rows = session.execute(
        select(Delegation, User)
        .join(User, User.username == Delegation.to_username)
        .where(
            Delegation.from_username.in_(names),
            Delegation.starts_on <= day,
            Delegation.until >= day,
            Delegation.revoked_at.is_(None),
            User.active,
        )
        .order_by(Delegation.id)
    ).all()
    out, seen = [], set(names)
    for delegation, user in rows:
        if user.username in seen or user.username == requester:
            continue
        seen.add(user.username)
        out.append(approver_ref(user, on_behalf_of=delegation.from_username))
    return out


def managers_of(
    session: Session, approvers: list[ApproverRef], day: date, requester: str | None
) -> list[ApproverRef]:
    """For escalation: the managers of the step's approvers (skipping the requester)."""
    out, seen = [], {a.username for a in approvers}
    for a in approvers:
        if not a.employee_id:
            continue
        try:
            user, _ = _line(session, a.employee_id, day, 0, requester)
        except NobodyToApprove:
            continue
        if user.username not in seen:
            seen.add(user.username)
            out.append(approver_ref(user, on_behalf_of=a.username))
    return out
