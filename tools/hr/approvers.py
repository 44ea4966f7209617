"""Who approves what. For now one rule: the employee's manager approves, HR ops when there is none.
(Approval rules as data arrive with the record-change workflows.)"""

from __future__ import annotations

from sqlalchemy import select

from hrops.clock import today
from tools.hr.access import store
from tools.hr.schemas import ApproverChain, ApproverRef, ApproversQuery
from tools.registry import ALL_ROLES, Risk, ToolContext, ToolError, tool
from tools.store import queries
from tools.store.identity import user_for_employee
from tools.store.models import Employee, JobAssignment, Role, User, UserRole


@tool("approvals.approvers_for", risk=Risk.READ, roles=ALL_ROLES)
def approvers_for(ctx: ToolContext, args: ApproversQuery) -> ApproverChain:
    """The people who must approve a request of this kind for this employee, and the rule used."""
    with store() as session:
        employee = session.get(Employee, args.employee_id.upper())
        if employee is None:
            raise ToolError(f"no employee {args.employee_id}")
        job = queries.current(session, JobAssignment, employee.id, today())
        manager = session.get(Employee, job.manager_id) if job and job.manager_id else None
        user = user_for_employee(session, manager.id) if manager else None
        if manager is not None and user is not None:
            return ApproverChain(
                approvers=[ApproverRef(username=user.username, employee_id=manager.id, display_name=user.display_name)],
                rule="the employee's manager approves",
            )
        hr_ops = session.scalars(
            select(User).join(UserRole, UserRole.username == User.username)
            .where(UserRole.role == Role.HR_OPS, User.active)
            .order_by(User.username)
        ).all()
        if not hr_ops:
            raise ToolError(f"{employee.id} has no manager with a user account and no HR ops user exists")
        return ApproverChain(
            approvers=[ApproverRef(username=u.username, employee_id=u.employee_id, display_name=u.display_name)
                       for u in hr_ops],
            rule="no manager with an account: any HR ops user approves",
        )
