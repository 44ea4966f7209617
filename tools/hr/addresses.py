"""Home address tools: read the current one, check a proposed change, apply an approved change."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hrops.clock import today
from tools.hr.access import principal, record_audit, store, visible_employee
from tools.hr.directory import profile_of
from tools.hr.schemas import (
    AddressChange,
    AddressChangeApplied,
    AddressChangeCheck,
    CurrentAddress,
    EmployeeRef,
    PostalAddress,
)
from tools.registry import Risk, ToolContext, ToolDenied, ToolError, tool
from tools.store import queries
from tools.store.models import Employee, EmployeeAddress, Role

# How far an address change may be backdated or post-dated without being a data-entry mistake.
MAX_BACKDATE = timedelta(days=31)
MAX_POSTDATE = timedelta(days=366)

REQUESTERS = {Role.EMPLOYEE, Role.HR_OPS, Role.ADMIN}
READERS = {Role.EMPLOYEE, Role.MANAGER, Role.HRBP, Role.HR_OPS, Role.ADMIN}

_FIELDS = ("line1", "line2", "city", "region", "postcode", "country")


def _as_address(row: EmployeeAddress | None) -> PostalAddress | None:
    return PostalAddress.model_validate({f: getattr(row, f) for f in _FIELDS}) if row else None


def _problems(session: Session, employee: Employee, change: AddressChange, on: date) -> list[str]:
    """Everything wrong with the change, in words a requester can act on."""
    problems: list[str] = []
    if employee.hire_date > on:
        problems.append(f"{employee.id} starts on {employee.hire_date}; change the address after that")
    elif not queries.employed_on(employee, on):
        problems.append(f"{employee.id} is not active (left on {employee.termination_date})")
    elif not queries.employed_on(employee, change.effective_on):
        problems.append(f"{employee.id} leaves on {employee.termination_date}, before {change.effective_on}")
    if change.effective_on < employee.hire_date:
        problems.append(f"effective date {change.effective_on} is before the hire date {employee.hire_date}")
    if change.effective_on < on - MAX_BACKDATE:
        problems.append(
            f"effective date {change.effective_on} is more than {MAX_BACKDATE.days} days in the past"
        )
    if change.effective_on > on + MAX_POSTDATE:
        problems.append(f"effective date {change.effective_on} is more than a year ahead")
    later = session.scalar(
        select(EmployeeAddress.valid_from)
        .where(EmployeeAddress.employee_id == employee.id, EmployeeAddress.valid_from >= change.effective_on)
        .limit(1)
    )
    if later is not None:
        problems.append(f"an address from {later} is already recorded; a change must start after it")
    current = _as_address(queries.current(session, EmployeeAddress, employee.id, change.effective_on))
    if current == change.address:
        problems.append("this is already the employee's address on that date")
    return problems


def _requester_refusal(session: Session, ctx: ToolContext, employee_id: str) -> str | None:
    who = principal(session, ctx)
    if not who.has(Role.HR_OPS, Role.ADMIN) and who.employee_id != employee_id:
        return f"{ctx.actor} may request address changes only for themselves"
    return None


@tool("employee.address", risk=Risk.READ, roles=READERS)
def employee_address(ctx: ToolContext, args: EmployeeRef) -> CurrentAddress:
    """Current home address of an employee the caller may see (personal data)."""
    with store() as session:
        employee = visible_employee(session, ctx, args.employee_id)
        row = queries.current(session, EmployeeAddress, employee.id, today())
        return CurrentAddress(
            employee_id=employee.id, address=_as_address(row), valid_from=row.valid_from if row else None
        )


@tool("employee.check_address_change", risk=Risk.READ, roles=REQUESTERS)
def check_address_change(ctx: ToolContext, args: AddressChange) -> AddressChangeCheck:
    """Validate a proposed address change and show current vs proposed. Changes nothing."""
    with store() as session:
        employee = session.get(Employee, args.employee_id)
        if employee is None:
            return AddressChangeCheck(problems=[f"no employee {args.employee_id}"])
        if refusal := _requester_refusal(session, ctx, employee.id):
            return AddressChangeCheck(problems=[refusal])
        current = queries.current(session, EmployeeAddress, employee.id, today())
        return AddressChangeCheck(
            employee=profile_of(session, employee),
            current=_as_address(current),
            proposed=args.address,
            effective_on=args.effective_on,
            problems=_problems(session, employee, args, today()),
        )


@tool("employee.change_address", risk=Risk.PII, roles=REQUESTERS)
def change_address(ctx: ToolContext, args: AddressChange) -> AddressChangeApplied:
    """Record an approved home address change as a new effective-dated row, in one transaction
    with its audit entry. Applying the same request again changes nothing."""
    with store(write=True) as session:
        # Lock the employee (Postgres; SQLite's write transaction already excludes other writers),
        # so a timed-out attempt still running and its retry cannot both insert a row.
        employee = session.get(Employee, args.employee_id, with_for_update=True)
        if employee is None:
            raise ToolError(f"no employee {args.employee_id}")
        done = session.scalar(
            select(EmployeeAddress).where(
                EmployeeAddress.request_id == ctx.request_id, EmployeeAddress.employee_id == employee.id
            )
        )
        if done is not None:
            return AddressChangeApplied(
                employee_id=done.employee_id,
                record_id=done.id,
                previous_record_id=None,
                effective_on=done.valid_from,
                already_applied=True,
            )
        if refusal := _requester_refusal(session, ctx, employee.id):
            raise ToolDenied(refusal)
        if problems := _problems(session, employee, args, today()):
            raise ToolError("; ".join(problems))
        previous = queries.current(session, EmployeeAddress, employee.id, args.effective_on)
        if previous is not None:
            previous.valid_to = args.effective_on
        row = EmployeeAddress(
            employee_id=employee.id,
            valid_from=args.effective_on,
            request_id=ctx.request_id,
            **args.address.model_dump(),
        )
        session.add(row)
        session.flush()
        changed = [f for f in _FIELDS if getattr(_as_address(previous), f, None) != getattr(args.address, f)]
        record_audit(
            session,
            ctx,
            "employee.change_address",
            "employee.address_changed",
            entity_type="employee",
            entity_id=employee.id,
            details={
                "record_id": row.id,
                "previous_record_id": previous.id if previous else None,
                "effective_on": args.effective_on.isoformat(),
                "fields": changed,
            },
        )
        return AddressChangeApplied(
            employee_id=employee.id,
            record_id=row.id,
            previous_record_id=previous.id if previous else None,
            effective_on=args.effective_on,
        )
