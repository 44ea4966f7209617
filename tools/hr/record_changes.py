"""Employee record change tools: check a change (diff preview, side effects, routing facts), apply
an approved one as an effective-dated record in one transaction with its audit entry, and work out
the compensating change that undoes an applied one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hrops.clock import today
from tools.approvals.rules import ChangeType
from tools.hr import dated
from tools.hr.access import principal, record_audit, store
from tools.hr.addresses import address_problems, as_address, write_address
from tools.hr.changes import (
    ADDRESS_FIELDS,
    AddressDetails,
    ChangeApplied,
    ChangeCheck,
    FieldDiff,
    JobTitleDetails,
    ManagerDetails,
    RecordChange,
    Routing,
    SalaryDetails,
    TransferDetails,
)
from tools.hr.directory import profile_of
from tools.hr.schemas import EmployeeRef
from tools.registry import ALL_ROLES, Risk, ToolContext, ToolDenied, ToolError, tool
from tools.store import queries
from tools.store.identity import can_see_employee, user_for_employee
from tools.store.models import (
    AuditEntry,
    Compensation,
    Employee,
    EmployeeAddress,
    EmployeeStatus,
    JobAssignment,
    OrgUnit,
    PayBand,
    Role,
)

APPLIERS = frozenset({Role.EMPLOYEE, Role.MANAGER, Role.HRBP, Role.HR_OPS, Role.ADMIN})
# The audit action that marks each kind as applied (also how a retried apply finds its work done).
APPLIED_ACTION = {
    ChangeType.ADDRESS_CHANGE: "employee.address_changed",
    ChangeType.JOB_TITLE: "employee.job_title_changed",
    ChangeType.TRANSFER: "employee.transferred",
    ChangeType.MANAGER_CHANGE: "employee.manager_changed",
    ChangeType.SALARY_CHANGE: "employee.salary_changed",
    ChangeType.TERMINATION: "employee.terminated",
}
TABLE = {
    ChangeType.ADDRESS_CHANGE: EmployeeAddress,
    ChangeType.JOB_TITLE: JobAssignment,
    ChangeType.TRANSFER: JobAssignment,
    ChangeType.MANAGER_CHANGE: JobAssignment,
    ChangeType.SALARY_CHANGE: Compensation,
}
_DAY = timedelta(days=1)
JOB_FIELDS = ("title", "job_family", "level", "org_unit_id", "manager_id", "location", "fte")


@dataclass
class Preview:
    """What a check found; `job_values`/`pay_values` are the new row when the change is applied."""

    diff: list[FieldDiff] = field(default_factory=list)
    side_effects: list[str] = field(default_factory=list)
    routing: Routing = field(default_factory=Routing)
    problems: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)
    notify: list[str] = field(default_factory=list)


def _requester_refusal(
    session: Session, ctx: ToolContext, employee: Employee, kind: ChangeType
) -> str | None:
    who = principal(session, ctx)
    if who.has(Role.HR_OPS, Role.ADMIN):
        return None
    if kind is ChangeType.ADDRESS_CHANGE:
        return (
            None
            if who.employee_id == employee.id
            else f"{ctx.actor} may request address changes only for themselves"
        )
    if who.employee_id == employee.id:
        return f"{ctx.actor} cannot request a {kind.value.replace('_', ' ')} for themselves; ask your manager or HR"
    if not can_see_employee(session, who, employee.id, today()):
        return f"{ctx.actor} may not request changes for {employee.id} (not in their organisation)"
    return None


def _money(amount: Decimal, currency: str, frequency: str) -> str:
    return f"{amount:,.2f} {currency} {frequency}"


def _person(session: Session, employee_id: str | None) -> str | None:
    if employee_id is None:
        return None
    e = session.get(Employee, employee_id)
    return f"{e.display_name} ({e.id})" if e else employee_id


def _unit(session: Session, unit_id: int) -> str:
    u = session.get(OrgUnit, unit_id)
    return f"{u.name} ({u.code})" if u else str(unit_id)


def _manager_problems(session: Session, employee: Employee, manager_id: str, on: date) -> list[str]:
    manager = session.get(Employee, manager_id)
    if manager is None:
        return [f"no employee {manager_id} to be the manager"]
    if manager.id == employee.id:
        return [f"{employee.id} cannot manage themselves"]
    if not queries.employed_on(manager, on):
        return [f"the new manager {manager.id} is not employed on {on}"]
    if employee.id in queries.manager_chain(session, manager.id, on):
        return [f"{manager.id} reports to {employee.id}: that would make a reporting loop"]
    return []


def _job_preview(session: Session, employee: Employee, change: RecordChange) -> Preview:
    p = Preview()
    on, d = change.effective_on, change.details
    job = queries.current(session, JobAssignment, employee.id, on)
    if job is None:
        p.problems.append(f"{employee.id} has no job on {on} to change")
        return p
    if later := dated.later_row_problem(
        session, JobAssignment, employee.id, on, change.undoes, "a job record"
    ):
        p.problems.append(later)
    new = {f: getattr(job, f) for f in JOB_FIELDS}
    if isinstance(d, JobTitleDetails):
        new["title"] = d.title
    elif isinstance(d, ManagerDetails):
        new["manager_id"] = d.manager_id
    elif isinstance(d, TransferDetails):
        unit = queries.org_by_code(session, d.org_unit)
        if unit is None:
            p.problems.append(f"no department {d.org_unit}: give the code of an existing org unit")
            return p
        if unit.id == job.org_unit_id:
            p.problems.append(f"{employee.id} is already in {unit.code}")
        new["org_unit_id"] = unit.id
        new["manager_id"] = d.manager_id or unit.head_employee_id
        if new["manager_id"] in (None, employee.id):
            p.problems.append(f"{unit.code} has no head to report to: name the new manager (manager_id)")
            return p
        if d.location:
            new["location"] = d.location
    if new["manager_id"] and new["manager_id"] != job.manager_id:
        p.problems += _manager_problems(session, employee, new["manager_id"], on)
        p.routing.new_manager_id = new["manager_id"]
    shown = {
        "title": lambda v: v,
        "org_unit_id": lambda v: _unit(session, v),
        "manager_id": lambda v: _person(session, v),
        "location": lambda v: v,
    }
    for f, show in shown.items():
        if new[f] != getattr(job, f):
            p.diff.append(
                FieldDiff(field=f.removesuffix("_id"), before=show(getattr(job, f)), after=show(new[f]))
            )
    if not p.diff:
        p.problems.append("this is already the employee's job on that date")
    if new["manager_id"] != job.manager_id and new["manager_id"]:
        p.side_effects.append(f"reports to {_person(session, new['manager_id'])} from {on}")
        if boss := user_for_employee(session, new["manager_id"]):
            p.notify.append(boss.username)
        skip = queries.manager_chain(session, new["manager_id"], on)
        p.side_effects.append(
            f"new skip-level manager: {_person(session, skip[0]) if skip else 'none (top of the company)'}"
        )
    if new["org_unit_id"] != job.org_unit_id and queries.has_reports(session, employee.id, on):
        p.side_effects.append(
            f"{employee.id}'s direct reports move with them (they keep {employee.id} as manager)"
        )
    p.values = new | {"change_reason": change.kind.value}
    return p


def _band(session: Session, level: str, location: str, on: date) -> PayBand | None:
    return session.scalar(
        select(PayBand)
        .where(
            PayBand.level == level,
            PayBand.location == location,
            PayBand.valid_from <= on,
            or_(PayBand.valid_to.is_(None), PayBand.valid_to > on),
        )
        .order_by(PayBand.valid_from.desc())
        .limit(1)
    )


def band_position(
    session: Session, level: str, location: str, on: date, amount: Decimal, currency: str, frequency: str
) -> tuple[str, bool | None]:
    """Where pay sits in the band of its level and location, in words, and whether it is outside
    (None when there is no comparable band)."""
    band = _band(session, level, location, on)
    if band is None:
        return f"no pay band for {level} in {location}: band position unknown", None
    if (band.currency, band.frequency) != (currency, frequency):
        return (
            f"the {band.level} {band.location} band is in {band.currency} {band.frequency}: position not computed",
            None,
        )
    span = band.max_amount - band.min_amount
    where = (amount - band.min_amount) / span * 100 if span else Decimal(50)
    outside = not band.min_amount <= amount <= band.max_amount
    return (
        f"pay band {band.level} {band.location}: {band.min_amount:,.0f}-{band.max_amount:,.0f} {band.currency}; "
        f"new pay at {where:.0f}% of the range, compa-ratio {amount / band.mid_amount:.2f}"
        + (" (OUTSIDE the band)" if outside else ""),
        outside,
    )


def _salary_preview(session: Session, employee: Employee, change: RecordChange) -> Preview:
    p = Preview()
    on, d = change.effective_on, change.details
    assert isinstance(d, SalaryDetails)
    pay = queries.current(session, Compensation, employee.id, on)
    if later := dated.later_row_problem(
        session, Compensation, employee.id, on, change.undoes, "a pay record"
    ):
        p.problems.append(later)
    before = _money(pay.base_amount, pay.currency, pay.frequency) if pay else None
    after = _money(d.amount, d.currency, d.frequency)
    if before == after:
        p.problems.append("this is already the employee's pay on that date")
    p.diff.append(FieldDiff(field="base_pay", before=before, after=after))
    if pay and (pay.currency, pay.frequency) == (d.currency, d.frequency):
        rise = (d.amount - pay.base_amount) / pay.base_amount * 100
        p.routing.increase_percent = rise.quantize(Decimal("0.01"))
        p.side_effects.append(f"{'an increase' if rise >= 0 else 'a decrease'} of {abs(rise):.1f}%")
    elif pay:
        p.side_effects.append(f"pay moves from {pay.currency} {pay.frequency} to {d.currency} {d.frequency}")
    job = queries.current(session, JobAssignment, employee.id, on)
    note, p.routing.outside_pay_band = band_position(
        session,
        job.level if job else "?",
        job.location if job else "?",
        on,
        d.amount,
        d.currency,
        d.frequency,
    )
    p.side_effects.append(note)
    p.values = {
        "base_amount": d.amount,
        "currency": d.currency,
        "frequency": d.frequency.value,
        "change_reason": "salary_change",
    }
    return p


def _termination_preview(session: Session, employee: Employee, change: RecordChange) -> Preview:
    p = Preview()
    on = change.effective_on
    if employee.termination_date is not None:
        p.problems.append(f"{employee.id} already leaves on {employee.termination_date}")
    if on <= employee.hire_date:
        p.problems.append(f"the last day would be before the hire date {employee.hire_date}")
    for model, what in (
        (JobAssignment, "a job record"),
        (Compensation, "a pay record"),
        (EmployeeAddress, "an address"),
    ):
        if later := dated.later_row_problem(session, model, employee.id, on + _DAY, None, what):
            p.problems.append(
                later.replace("a change must start after it", "the termination must come after it")
            )
    d = change.details
    p.diff = [
        FieldDiff(field="status", before="active", after=f"terminated from {on}"),
        FieldDiff(field="reason", before=None, after=f"{d.reason.value} ({d.reason.leaver_type.value})"),  # type: ignore[union-attr]
    ]
    reports = session.scalars(
        select(JobAssignment.employee_id).where(
            JobAssignment.manager_id == employee.id, *queries.in_force(JobAssignment, on)
        )
    ).all()
    if reports:
        p.side_effects.append(
            f"{len(reports)} direct report(s) need a new manager from {on}: {', '.join(sorted(reports))}"
        )
    p.side_effects.append(f"job, pay and address records end on {on}; the account is disabled from then")
    return p


def preview(session: Session, ctx: ToolContext, change: RecordChange) -> tuple[Employee | None, Preview]:
    employee = session.get(Employee, change.employee_id)
    if employee is None:
        return None, Preview(problems=[f"no employee {change.employee_id}"])
    if refusal := _requester_refusal(session, ctx, employee, change.kind):
        return employee, Preview(problems=[refusal])
    on = today()
    if change.kind is ChangeType.ADDRESS_CHANGE:
        d = change.details
        assert isinstance(d, AddressDetails)
        current = as_address(queries.current(session, EmployeeAddress, employee.id, change.effective_on))
        p = Preview(
            problems=address_problems(session, employee, d.address, change.effective_on, on, change.undoes),
            diff=[
                FieldDiff(field=f, before=getattr(current, f, None), after=getattr(d.address, f))
                for f in ADDRESS_FIELDS
                if getattr(current, f, None) != getattr(d.address, f)
            ],
        )
    else:
        timing = dated.timing_problems(employee, change.effective_on, on)
        if change.kind is ChangeType.SALARY_CHANGE:
            p = _salary_preview(session, employee, change)
        elif change.kind is ChangeType.TERMINATION:
            p = _termination_preview(session, employee, change)
        else:
            p = _job_preview(session, employee, change)
        p.problems = timing + p.problems
    if subject := user_for_employee(session, employee.id):
        p.notify.insert(0, subject.username)
    return employee, p


@tool("employee.check_change", risk=Risk.READ, roles=ALL_ROLES)
def check_change(ctx: ToolContext, args: RecordChange) -> ChangeCheck:
    """Validate a proposed record change and preview it: before/after, side effects (new manager,
    pay-band position), what the approval rules will look at. Changes nothing."""
    with store() as session:
        employee, p = preview(session, ctx, args)
        return ChangeCheck(
            employee=profile_of(session, employee) if employee else None,
            as_of=today(),
            diff=p.diff,
            side_effects=p.side_effects,
            routing=p.routing,
            notify=list(dict.fromkeys(p.notify)),
            problems=p.problems,
        )


def _done(session: Session, request_id: str | None, action: str) -> AuditEntry | None:
    if request_id is None:
        return None
    return session.scalar(
        select(AuditEntry).where(AuditEntry.request_id == request_id, AuditEntry.action == action).limit(1)
    )


@tool("employee.apply_change", risk=Risk.MONEY, roles=APPLIERS)
def apply_change(ctx: ToolContext, args: RecordChange) -> ChangeApplied:
    """Apply an approved record change as an effective-dated record, in one transaction with its
    audit entry. Applying the same request again changes nothing."""
    action = APPLIED_ACTION[args.kind]
    with store(write=True) as session:
        # Lock the employee (Postgres; SQLite's write transaction already excludes other writers),
        # so a timed-out attempt still running and its retry cannot both write.
        employee = session.get(Employee, args.employee_id, with_for_update=True)
        if employee is None:
            raise ToolError(f"no employee {args.employee_id}")
        if (done := _done(session, ctx.request_id, action)) is not None:
            return ChangeApplied.model_validate(done.details | {"already_applied": True})
        _, p = preview(session, ctx, args)
        if p.problems:
            refusal = _requester_refusal(session, ctx, employee, args.kind)
            raise (ToolDenied if refusal else ToolError)("; ".join(p.problems))
        rescinded, record_id, previous_id = False, None, None
        if isinstance(args.details, AddressDetails):
            row, previous, rescinded, _ = write_address(
                session, employee.id, args.details.address, args.effective_on, ctx.request_id, args.undoes
            )
            record_id, previous_id = row.id, previous.id if previous else None
        elif args.kind is ChangeType.TERMINATION:
            _terminate(session, employee, args)
        else:
            row, previous, rescinded = dated.write_row(
                session,
                TABLE[args.kind],
                employee.id,
                args.effective_on,
                ctx.request_id,
                p.values,
                args.undoes,
            )
            record_id, previous_id = row.id, previous.id if previous else None
        applied = ChangeApplied(
            employee_id=employee.id,
            table=TABLE[args.kind].__tablename__ if args.kind in TABLE else "employees",
            record_id=record_id,
            previous_record_id=previous_id,
            effective_on=args.effective_on,
            rescinded_same_day=rescinded,
        )
        record_audit(
            session,
            ctx,
            "employee.apply_change",
            action,
            entity_type="employee",
            entity_id=employee.id,
            # Field names and ids only: the values are in the rows the entry points to.
            details=applied.model_dump(mode="json", exclude={"already_applied"})
            | {"fields": [d.field for d in p.diff], "undoes": args.undoes},
        )
        return applied


def _terminate(session: Session, employee: Employee, change: RecordChange) -> None:
    reason = change.details.reason  # type: ignore[union-attr]
    on = change.effective_on
    employee.termination_date = on
    employee.leaver_type = reason.leaver_type.value
    employee.leaver_reason = reason.value
    if on <= today():
        employee.status = EmployeeStatus.TERMINATED
    for model in (JobAssignment, Compensation, EmployeeAddress):
        for row in session.scalars(
            select(model).where(
                model.employee_id == employee.id, or_(model.valid_to.is_(None), model.valid_to > on)
            )
        ):
            row.valid_to = on


class UndoQuery(EmployeeRef):
    request_id: str
    kind: ChangeType


@tool("employee.compensating_change", risk=Risk.READ, roles=ALL_ROLES)
def compensating_change(ctx: ToolContext, args: UndoQuery) -> RecordChange:
    """The change that undoes an applied request: the values in force before it, from today (an
    undo on the change's first day rescinds it). Refused when a later change built on it."""
    if args.kind is ChangeType.TERMINATION:
        raise ToolError(
            f"{args.request_id} ended an employment; it cannot be undone by a record change "
            "(rehire through onboarding, or ask an admin to correct the record)"
        )
    model = TABLE.get(args.kind)
    if model is None:
        raise ToolError(f"{args.kind.value} requests cannot be undone here")
    with store() as session:
        row = dated.applied_row(session, model, args.employee_id, args.request_id)
        if row is None:
            raise ToolError(f"{args.request_id} has not been applied: nothing to undo (cancel it instead)")
        if row.valid_to is not None:
            later = session.scalar(
                select(model.request_id).where(
                    model.employee_id == row.employee_id, model.valid_from == row.valid_to
                )
            )
            raise ToolError(
                f"{args.request_id} was followed by {later or 'a later change'} on the same record from "
                f"{row.valid_to}; undo that first"
            )
        previous = session.scalar(
            select(model)
            .where(model.employee_id == row.employee_id, model.valid_to == row.valid_from)
            .limit(1)
        )
        if previous is None:
            raise ToolError(
                f"{args.request_id} wrote the first record of its kind: there is nothing to go back to"
            )
        details = _details_of(session, args.kind, previous)
    return RecordChange(
        employee_id=args.employee_id,
        details=details,
        effective_on=max(today(), row.valid_from),
        undoes=args.request_id,
    )


def _details_of(session: Session, kind: ChangeType, row):  # noqa: ANN001, ANN202 - one of the details models
    if kind is ChangeType.ADDRESS_CHANGE:
        return AddressDetails(address=as_address(row))
    if kind is ChangeType.SALARY_CHANGE:
        return SalaryDetails(amount=row.base_amount, currency=row.currency, frequency=row.frequency)
    if kind is ChangeType.JOB_TITLE:
        return JobTitleDetails(title=row.title)
    if kind is ChangeType.MANAGER_CHANGE:
        return ManagerDetails(manager_id=row.manager_id)
    unit = session.get(OrgUnit, row.org_unit_id)
    return TransferDetails(org_unit=unit.code, manager_id=row.manager_id, location=row.location)
