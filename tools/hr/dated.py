"""Effective-dated writes every record change shares: when a change may start, and how a new row
takes over from the one in force (half-open ranges, one row per employee and day)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.store import queries
from tools.store.models import Employee

# How far a change may be backdated or post-dated without being a data-entry mistake.
MAX_BACKDATE = timedelta(days=31)
MAX_POSTDATE = timedelta(days=366)


def timing_problems(employee: Employee, effective_on: date, on: date) -> list[str]:
    """Is the employee active, and is the effective date sensible? In words a requester can act on."""
    problems: list[str] = []
    if employee.hire_date > on:
        problems.append(f"{employee.id} starts on {employee.hire_date}; change the record after that")
    elif not queries.employed_on(employee, on):
        problems.append(f"{employee.id} is not active (left on {employee.termination_date})")
    elif not queries.employed_on(employee, effective_on) and effective_on >= employee.hire_date:
        problems.append(f"{employee.id} leaves on {employee.termination_date}, before {effective_on}")
    if effective_on < employee.hire_date:
        problems.append(f"effective date {effective_on} is before the hire date {employee.hire_date}")
    if effective_on < on - MAX_BACKDATE:
        problems.append(f"effective date {effective_on} is more than {MAX_BACKDATE.days} days in the past")
    if effective_on > on + MAX_POSTDATE:
        problems.append(f"effective date {effective_on} is more than a year ahead")
    return problems


def later_row_problem(
    session: Session, model: type, employee_id: str, effective_on: date, undoes: str | None, what: str
) -> str | None:
    """A row starting on or after the effective date would be overtaken out of order: refuse.
    An undo may replace, on its first day, the row of the change it undoes."""
    later = session.scalars(
        select(model).where(model.employee_id == employee_id, model.valid_from >= effective_on)
    ).all()
    for row in later:
        if undoes and row.request_id == undoes and row.valid_from == effective_on:
            continue
        return f"{what} from {row.valid_from} is already recorded; a change must start after it"
    return None


def write_row(
    session: Session,
    model: type,
    employee_id: str,
    effective_on: date,
    request_id: str | None,
    values: dict[str, Any],
    undoes: str | None = None,
) -> tuple[Any, Any, bool]:
    """Close the row in force and start a new one on `effective_on`: (new, previous, rescinded).

    An undo on the same day its change started rewrites that row instead (the change is
    rescinded: it was never in force); the audit entry keeps both sides.
    """
    previous = queries.current(session, model, employee_id, effective_on)
    if (
        previous is not None
        and undoes
        and previous.request_id == undoes
        and previous.valid_from == effective_on
    ):
        for k, v in values.items():
            setattr(previous, k, v)
        previous.request_id = request_id
        return previous, None, True
    if previous is not None:
        previous.valid_to = effective_on
    row = model(employee_id=employee_id, valid_from=effective_on, request_id=request_id, **values)
    session.add(row)
    session.flush()
    return row, previous, False


def applied_row(session: Session, model: type, employee_id: str, request_id: str | None) -> Any:
    """The row an earlier attempt of this request wrote, if any (applying twice changes nothing)."""
    if request_id is None:
        return None
    return session.scalar(
        select(model).where(model.request_id == request_id, model.employee_id == employee_id).limit(1)
    )
