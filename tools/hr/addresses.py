"""Home address tools: read the current one, check a proposed change, apply an approved change."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from hrops.clock import today
from tools.hr import dated
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

REQUESTERS = {Role.EMPLOYEE, Role.HR_OPS, Role.ADMIN}
READERS = {Role.EMPLOYEE, Role.MANAGER, Role.HRBP, Role.HR_OPS, Role.ADMIN}

_FIELDS = ("line1", "line2", "city", "region", "postcode", "country")


def as_address(row: EmployeeAddress | None) -> PostalAddress | None:
    return PostalAddress.model_validate({f: getattr(row, f) for f in _FIELDS}) if row else None


def address_problems(
    session: Session,
    employee: Employee,
    address: PostalAddress,
    effective_on: date,
    on: date,
    undoes: str | None = None,
) -> list[str]:
    """Everything wrong with the change, in words a requester can act on."""
    problems = dated.timing_problems(employee, effective_on, on)
    if later := dated.later_row_problem(
        session, EmployeeAddress, employee.id, effective_on, undoes, "an address"
    ):
        problems.append(later)
    current = as_address(queries.current(session, EmployeeAddress, employee.id, effective_on))
    if current == address:
        problems.append("this is already the employee's address on that date")
    return problems


def write_address(
    session: Session,
    employee_id: str,
    address: PostalAddress,
    effective_on: date,
    request_id: str | None,
    undoes: str | None = None,
) -> tuple[EmployeeAddress, EmployeeAddress | None, bool, list[str]]:
    """The new address row, the one it took over from, whether it rescinded, the fields changed."""
    before = as_address(queries.current(session, EmployeeAddress, employee_id, effective_on))
    row, previous, rescinded = dated.write_row(
        session, EmployeeAddress, employee_id, effective_on, request_id, address.model_dump(), undoes
    )
    changed = [f for f in _FIELDS if getattr(before, f, None) != getattr(address, f)]
    return row, previous, rescinded, changed


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
            employee_id=employee.id, address=as_address(row), valid_from=row.valid_from if row else None
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
            current=as_address(current),
            proposed=args.address,
            effective_on=args.effective_on,
            problems=address_problems(session, employee, args.address, args.effective_on, today()),
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
        done = dated.applied_row(session, EmployeeAddress, employee.id, ctx.request_id)
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
        if problems := address_problems(session, employee, args.address, args.effective_on, today()):
            raise ToolError("; ".join(problems))
        row, previous, _, changed = write_address(
            session, employee.id, args.address, args.effective_on, ctx.request_id
        )
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
