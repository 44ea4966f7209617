"""Onboarding tools: check an offer, create the new hire's records, account and equipment request,
gather what the onboarding plan may use, enrol, and undo each of those steps when an offer is
withdrawn. Every write is one transaction with its audit entry and safe to repeat."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from hrops.clock import now, today
from hrops.settings import get_settings
from tools.hr.access import record_audit, store
from tools.hr.dated import MAX_POSTDATE
from tools.hr.record_changes import band_position
from tools.onboarding.schemas import (
    Account,
    AccountArgs,
    EnrolArgs,
    Enrolled,
    Equipment,
    EquipmentArgs,
    HireCreated,
    NewHire,
    OnboardingCheck,
    PlanInputs,
    Step,
    UndoArgs,
    Undone,
)
from tools.registry import ALL_ROLES, Risk, ToolContext, ToolError, tool
from tools.store import queries
from tools.store.identity import user_for_employee
from tools.store.models import (
    AuditEntry,
    Compensation,
    Course,
    Employee,
    EmployeeAddress,
    EmployeeStatus,
    EquipmentRequest,
    EquipmentStatus,
    JobAssignment,
    LearningRecord,
    LearningStatus,
    OrgUnit,
    Role,
    User,
)

ONBOARDERS = frozenset({Role.HR_OPS, Role.ADMIN})
WITHDRAWN = "offer_withdrawn"  # leaver_reason of a record whose offer was withdrawn before day 1
# Course categories that belong to each job family, and languages by country of the location.
ROLE_CATEGORIES = {
    "Engineering": ("technical", "security"),
    "Product": ("product",),
    "Sales": ("sales",),
    "Marketing": ("business",),
    "Operations": ("business",),
    "Finance": ("business",),
    "Human Resources": ("compliance",),
    "Legal": ("compliance",),
}
LANGUAGE_COURSE = {"CN": "C-LAN-101", "default": "C-LAN-110"}  # English in China, Mandarin elsewhere
CHINA = {"Shanghai", "Beijing", "Shenzhen"}
EQUIPMENT = {
    "Engineering": ["laptop (developer)", "2 monitors", "headset"],
    "Sales": ["laptop", "phone", "headset"],
}
ROLE_COURSES = 3
BUDDY_TENURE = timedelta(days=365)


def _audit(
    session: Session, ctx: ToolContext, tool: str, action: str, employee_id: str, **details: object
) -> None:
    record_audit(session, ctx, tool, action, entity_type="employee", entity_id=employee_id, details=details)


def _done(session: Session, ctx: ToolContext, action: str) -> AuditEntry | None:
    return session.scalar(
        select(AuditEntry)
        .where(AuditEntry.request_id == ctx.request_id, AuditEntry.action == action)
        .limit(1)
    )


def _family(session: Session, unit: OrgUnit, manager_id: str, day: date) -> str:
    """The job family most common in the team, else the manager's."""
    family = session.scalar(
        select(JobAssignment.job_family)
        .where(JobAssignment.org_unit_id == unit.id, *queries.in_force(JobAssignment, day))
        .group_by(JobAssignment.job_family)
        .order_by(func.count().desc())
        .limit(1)
    )
    boss = queries.current(session, JobAssignment, manager_id, day)
    return family or (boss.job_family if boss else "General")


def check_offer(session: Session, hire: NewHire) -> OnboardingCheck:
    day = today()
    out = OnboardingCheck(as_of=day)
    unit = queries.org_by_code(session, hire.org_unit)
    if unit is None:
        out.problems.append(f"no department {hire.org_unit}: give the code of an existing org unit")
    else:
        out.org_unit_name = unit.name
    manager = session.get(Employee, hire.manager_id)
    if manager is None:
        out.problems.append(f"no employee {hire.manager_id} to be the manager")
    elif not queries.employed_on(manager, max(day, hire.start_date)):
        out.problems.append(f"the manager {manager.id} is not employed on {hire.start_date}")
    else:
        out.manager_name = manager.display_name
    if hire.start_date < day:
        out.problems.append(f"start date {hire.start_date} is in the past; onboard from today ({day}) on")
    elif hire.start_date > day + MAX_POSTDATE:
        out.problems.append(f"start date {hire.start_date} is more than a year ahead")
    if hire.birth_date and (hire.start_date - hire.birth_date).days < 16 * 365:
        out.problems.append(
            f"birth date {hire.birth_date} makes the new hire younger than 16 on the start date"
        )
    same = session.scalar(
        select(Employee.id).where(
            Employee.given_name == hire.given_name,
            Employee.family_name == hire.family_name,
            Employee.hire_date == hire.start_date,
            or_(Employee.leaver_reason.is_(None), Employee.leaver_reason != WITHDRAWN),
        )
    )
    if same:
        out.problems.append(f"{same} with this name already starts on {hire.start_date}")
    note, outside = band_position(
        session, hire.level, hire.location, hire.start_date, hire.amount, hire.currency, hire.frequency
    )
    out.notes.append(note)
    out.outside_pay_band = outside
    return out


@tool("onboarding.check", risk=Risk.READ, roles=ONBOARDERS)
def check(ctx: ToolContext, args: NewHire) -> OnboardingCheck:
    """Validate an offer before anything is created: department, manager, start date, pay band."""
    with store() as session:
        return check_offer(session, args)


def _next_id(session: Session) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent hires would read the same highest id and collide on insert; this transaction
        # holds the lock until it commits. (SQLite's write transactions already run one at a time.)
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext("hrops.next_employee_id"))))
    width = session.scalar(select(func.max(func.length(Employee.id))))
    last = (
        session.scalar(select(func.max(Employee.id)).where(func.length(Employee.id) == width))
        if width
        else None
    )
    m = re.match(r"^([A-Z]*)(\d+)$", last or "")
    return f"{m[1]}{int(m[2]) + 1}" if m else "E100001"


@tool("onboarding.create_records", risk=Risk.MONEY, roles=ONBOARDERS)
def create_records(ctx: ToolContext, args: NewHire) -> HireCreated:
    """Create the employee with job, pay and home address effective on the start date (one transaction)."""
    with store(write=True) as session:
        if (done := _done(session, ctx, "employee.hired")) is not None:
            return HireCreated(employee_id=done.entity_id, already_created=True)
        if problems := check_offer(session, args).problems:
            raise ToolError("; ".join(problems))
        unit = queries.org_by_code(session, args.org_unit)
        assert unit is not None
        employee = Employee(
            id=_next_id(session),
            given_name=args.given_name,
            family_name=args.family_name,
            display_name=args.display_name,
            personal_email=args.personal_email,
            birth_date=args.birth_date,
            gender=args.gender,
            national_id=args.national_id,
            hire_date=args.start_date,
            status=EmployeeStatus.ACTIVE,
            source="onboarding",
            created_at=now(),
        )
        session.add(employee)
        session.flush()
        common = {"employee_id": employee.id, "valid_from": args.start_date, "request_id": ctx.request_id}
        session.add(
            JobAssignment(
                **common,
                title=args.title,
                job_family=_family(session, unit, args.manager_id, args.start_date),
                level=args.level,
                org_unit_id=unit.id,
                manager_id=args.manager_id,
                location=args.location,
                change_reason="hire",
            )
        )
        session.add(
            Compensation(
                **common,
                base_amount=args.amount,
                currency=args.currency,
                frequency=args.frequency,
                change_reason="hire",
            )
        )
        if args.home:
            session.add(EmployeeAddress(**common, **args.home.model_dump()))
        _audit(
            session,
            ctx,
            "onboarding.create_records",
            "employee.hired",
            employee.id,
            start_date=args.start_date.isoformat(),
            org_unit=unit.code,
            records=["employee", "job", "pay", *(["address"] if args.home else [])],
        )
        return HireCreated(employee_id=employee.id)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", plain)


@tool("onboarding.create_account", risk=Risk.PII, roles=ONBOARDERS)
def create_account(ctx: ToolContext, args: AccountArgs) -> Account:
    """A directory account: a unique username and work e-mail (a number added on a collision)."""
    domain = get_settings().email_domain
    with store(write=True) as session:
        employee = session.get(Employee, args.employee_id, with_for_update=True)
        if employee is None:
            raise ToolError(f"no employee {args.employee_id}")
        if (user := user_for_employee(session, employee.id)) is not None:
            return Account(
                employee_id=employee.id,
                username=user.username,
                email=employee.work_email or "",
                already_created=True,
            )
        base = ".".join(p for p in (_ascii(employee.given_name), _ascii(employee.family_name)) if p) or "user"
        for n in range(1, 1000):
            username = base if n == 1 else f"{base}{n}"
            email = f"{username}@{domain}"
            taken = session.get(User, username) is not None or session.scalar(
                select(Employee.id).where(func.lower(Employee.work_email) == email)
            )
            if not taken:
                break
        else:  # pragma: no cover - a thousand namesakes
            raise ToolError(f"no free username for {base}")
        session.add(User(username=username, employee_id=employee.id, display_name=employee.display_name))
        employee.work_email = email
        _audit(
            session,
            ctx,
            "onboarding.create_account",
            "account.created",
            employee.id,
            username=username,
            collision=n > 1,
        )
        return Account(employee_id=employee.id, username=username, email=email, collision=n > 1)


@tool("onboarding.request_equipment", risk=Risk.WRITE, roles=ONBOARDERS)
def request_equipment(ctx: ToolContext, args: EquipmentArgs) -> Equipment:
    """Raise the day-one equipment request for IT (by job family), needed by the day before the start."""
    with store(write=True) as session:
        row = session.scalar(select(EquipmentRequest).where(EquipmentRequest.request_id == args.request_id))
        if row is None:
            employee = session.get(Employee, args.employee_id)
            job = (
                queries.current(session, JobAssignment, args.employee_id, employee.hire_date)
                if employee
                else None
            )
            if employee is None or job is None:
                raise ToolError(f"no new hire {args.employee_id} with a job to equip")
            row = EquipmentRequest(
                employee_id=employee.id,
                request_id=args.request_id,
                items=EQUIPMENT.get(job.job_family, ["laptop", "headset"]),
                deliver_to=job.location,
                needed_by=employee.hire_date - timedelta(days=1),
                created_at=now(),
            )
            session.add(row)
            session.flush()
            _audit(
                session,
                ctx,
                "onboarding.request_equipment",
                "equipment.requested",
                employee.id,
                equipment_request=row.id,
            )
        return Equipment(request_number=row.id, items=list(row.items), needed_by=row.needed_by)


@tool("onboarding.plan_inputs", risk=Risk.READ, roles=ALL_ROLES)
def plan_inputs(ctx: ToolContext, args: AccountArgs) -> PlanInputs:
    """Courses (mandatory, for the role and the location) and buddy candidates the plan may use."""
    with store() as session:
        employee = session.get(Employee, args.employee_id)
        job = (
            queries.current(session, JobAssignment, args.employee_id, employee.hire_date)
            if employee
            else None
        )
        if employee is None or job is None:
            raise ToolError(f"no new hire {args.employee_id}")
        unit = session.get(OrgUnit, job.org_unit_id)
        courses = session.scalars(select(Course).order_by(Course.id)).all()
        mandatory = [c.id for c in courses if c.mandatory]
        wanted = ROLE_CATEGORIES.get(job.job_family, ())
        role = [c.id for c in courses if not c.mandatory and c.category in wanted][:ROLE_COURSES]
        language = LANGUAGE_COURSE["CN" if job.location in CHINA else "default"]
        if any(c.id == language for c in courses) and language not in role:
            role.append(language)
        start = employee.hire_date
        peers = session.scalars(
            select(Employee)
            .join(JobAssignment, JobAssignment.employee_id == Employee.id)
            .where(
                JobAssignment.org_unit_id == job.org_unit_id,
                *queries.in_force(JobAssignment, start),
                Employee.hire_date <= start - BUDDY_TENURE,
                Employee.id.not_in([employee.id, job.manager_id or ""]),
            )
            .order_by(Employee.hire_date, Employee.id)
        ).all()
        buddies = [p.id for p in peers if queries.employed_on(p, start) and user_for_employee(session, p.id)][
            :3
        ]
        return PlanInputs(
            employee_id=employee.id,
            title=job.title,
            team=unit.name if unit else "",
            location=job.location,
            start_date=start,
            manager_id=job.manager_id or "",
            mandatory_courses=mandatory,
            role_courses=role,
            course_titles={c.id: c.title for c in courses if c.id in {*mandatory, *role}},
            buddies=buddies,
        )


@tool("onboarding.enrol", risk=Risk.WRITE, roles=ONBOARDERS)
def enrol(ctx: ToolContext, args: EnrolArgs) -> Enrolled:
    """Enrol the new hire in the approved plan's courses, due 30 days after the start."""
    with store(write=True) as session:
        have = set(
            session.scalars(
                select(LearningRecord.course_id).where(LearningRecord.employee_id == args.employee_id)
            )
        )
        unknown = sorted(
            set(args.courses) - set(session.scalars(select(Course.id).where(Course.id.in_(args.courses))))
        )
        if unknown:
            raise ToolError(f"no course {', '.join(unknown)} in the catalogue")
        new = [c for c in args.courses if c not in have]
        for course in new:
            session.add(
                LearningRecord(
                    employee_id=args.employee_id,
                    course_id=course,
                    enrolled_on=args.start_date,
                    due_on=args.start_date + timedelta(days=30),
                    status=LearningStatus.ENROLLED,
                )
            )
        if new:
            _audit(session, ctx, "onboarding.enrol", "learning.enrolled", args.employee_id, courses=new)
        return Enrolled(enrolled=new, already=sorted(have & set(args.courses)))


@tool("onboarding.undo_step", risk=Risk.WRITE, roles=ONBOARDERS)
def undo_step(ctx: ToolContext, args: UndoArgs) -> Undone:
    """Offer withdrawn: undo one step (enrolments withdrawn, equipment request cancelled, account
    disabled, record marked withdrawn). Undoing twice changes nothing the second time."""
    with store(write=True) as session:
        e = args.employee_id
        if args.step is Step.ENROLMENTS:
            changed = session.execute(
                update(LearningRecord)
                .where(LearningRecord.employee_id == e, LearningRecord.status == LearningStatus.ENROLLED)
                .values(status=LearningStatus.WITHDRAWN)
            ).rowcount
        elif args.step is Step.EQUIPMENT:
            changed = session.execute(
                update(EquipmentRequest)
                .where(
                    EquipmentRequest.employee_id == e, EquipmentRequest.status == EquipmentStatus.REQUESTED
                )
                .values(status=EquipmentStatus.CANCELLED, cancelled_at=now())
            ).rowcount
        elif args.step is Step.ACCOUNT:
            changed = session.execute(
                update(User).where(User.employee_id == e, User.active.is_(True)).values(active=False)
            ).rowcount
        else:
            employee = session.get(Employee, e)
            changed = 0
            if employee is not None and employee.leaver_reason != WITHDRAWN:
                # Never employed: the employment ends on the day it would have begun.
                employee.status = EmployeeStatus.TERMINATED
                employee.termination_date = employee.hire_date
                employee.leaver_type = None
                employee.leaver_reason = WITHDRAWN
                for model in (JobAssignment, Compensation, EmployeeAddress):
                    session.execute(
                        update(model)
                        .where(model.employee_id == e, model.valid_to.is_(None))
                        .values(valid_to=employee.hire_date)
                    )
                changed = 1
        if changed:
            _audit(
                session, ctx, "onboarding.undo_step", f"onboarding.{args.step.value}_undone", e, rows=changed
            )
        return Undone(step=args.step, changed=changed)
