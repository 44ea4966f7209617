"""Who approves what. For now one rule: the employee's manager approves; the next manager up when
the manager asked for the change themselves (nobody approves their own request); HR ops when the
line has nobody else. (Approval rules as data arrive with the record-change workflows.)"""

from __future__ import annotations

from sqlalchemy import select

from hrops.clock import today
from tools.hr.access import store
from tools.hr.schemas import ApproverChain, ApproverRef, ApproversQuery
from tools.registry import ALL_ROLES, Risk, ToolContext, ToolError, tool
from tools.store import queries
from tools.store.identity import user_for_employee
from tools.store.models import Employee, Role, User, UserRole


@tool("approvals.approvers_for", risk=Risk.READ, roles=ALL_ROLES)
def approvers_for(ctx: ToolContext, args: ApproversQuery) -> ApproverChain:
    """The people who must approve a request of this kind for this employee, and the rule used."""
    with store() as session:
        employee = session.get(Employee, args.employee_id.upper())
        if employee is None:
            raise ToolError(f"no employee {args.employee_id}")
        for level, manager_id in enumerate(queries.manager_chain(session, employee.id, today())[:2]):
            manager = session.get(Employee, manager_id)
            employed = manager is not None and queries.employed_on(manager, today())
            user = user_for_employee(session, manager_id) if employed else None
            if user is None or user.username == args.requested_by:
                continue
            return ApproverChain(
                approvers=[
                    ApproverRef(
                        username=user.username, employee_id=manager_id, display_name=user.display_name
                    )
                ],
                rule="the employee's manager approves"
                if level == 0
                else "the manager's manager approves (the manager cannot approve this request)",
            )
        hr_ops = [
            u
            for u in session.scalars(
                select(User)
                .join(UserRole, UserRole.username == User.username)
                .where(UserRole.role == Role.HR_OPS, User.active)
                .order_by(User.username)
            )
            if u.username != args.requested_by
        ]
        if not hr_ops:
            raise ToolError(f"{employee.id} has no manager who can approve and no other HR ops user exists")
        return ApproverChain(
            approvers=[
                ApproverRef(username=u.username, employee_id=u.employee_id, display_name=u.display_name)
                for u in hr_ops
            ],
            rule="no manager with an account: any HR ops user approves",
        )
