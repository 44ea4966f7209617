"""Shared plumbing for HR tools: the store session, today, the caller's scope, audit entries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from hrops.clock import today
from hrops.settings import get_settings
from tools.registry import ToolContext, ToolDenied, ToolError
from tools.store import audit
from tools.store.db import session_scope
from tools.store.identity import Principal, UnknownUser, can_see_employee, resolve_principal
from tools.store.models import Employee


@contextmanager
def store(*, write: bool = False) -> Iterator[Session]:
    with session_scope(get_settings().db_url, write=write) as session:
        yield session


def principal(session: Session, ctx: ToolContext) -> Principal:
    try:
        return resolve_principal(session, ctx.actor, today())
    except UnknownUser as e:
        raise ToolDenied(str(e)) from None


def visible_employee(session: Session, ctx: ToolContext, employee_id: str) -> Employee:
    """The employee, if the caller may see them. Unknown and out-of-scope read the same way,
    so probing ids reveals nothing."""
    employee = session.get(Employee, employee_id.upper())
    if employee is None or not can_see_employee(session, principal(session, ctx), employee.id, today()):
        raise ToolError(f"no employee {employee_id} that {ctx.actor} may see")
    return employee


def record_audit(session: Session, ctx: ToolContext, tool: str, action: str, **fields: object) -> None:
    """Audit entry for a change made by a tool, linked to its request and approval."""
    details = dict(fields.pop("details", {}) or {})  # type: ignore[arg-type]
    if ctx.approval:  # the approval decision it carries out (the decision entry has the same time)
        details["approved_by"] = ctx.approval.approver
        details["approved_at"] = ctx.approval.decided_at
    audit.append(
        session,
        audit.AuditEvent(
            actor=ctx.actor,
            action=action,
            tool=tool,
            request_id=ctx.request_id,
            workflow_id=ctx.workflow_id,
            details=details,
            **fields,  # type: ignore[arg-type]
        ),
    )
