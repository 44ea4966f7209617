"""HR store schema (SQLAlchemy 2, typed mappings).

Effective-dated tables use half-open ranges: a row is in force on day D when
`valid_from <= D < valid_to` (`valid_to` NULL means open-ended). Every column is classified
(see `classification.py`); personal and sensitive values never go to logs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tools.store.classification import DEMOGRAPHIC, INTERNAL, NATIONAL_ID, PAY, PERSONAL, PUBLIC, RATING

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EmployeeStatus(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"  # also an offer withdrawn: termination date = hire date, never employed


class LeaverType(StrEnum):
    VOLUNTARY = "voluntary"
    INVOLUNTARY = "involuntary"


class PayFrequency(StrEnum):
    ANNUAL = "annual"
    MONTHLY = "monthly"
    HOURLY = "hourly"


class LearningStatus(StrEnum):
    ENROLLED = "enrolled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    HRBP = "hrbp"
    HR_OPS = "hr_ops"
    COMP_ANALYST = "comp_analyst"
    ADMIN = "admin"


def _enum_values(e: type[StrEnum]) -> str:
    return ", ".join(f"'{m.value}'" for m in e)


class OrgUnit(Base):
    """A node of the organisation tree. `path` is the materialised path of ids ("/1/4/17/"),
    so a subtree is one indexed prefix match on any database."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=INTERNAL)
    code: Mapped[str] = mapped_column(String(40), unique=True, info=INTERNAL)
    name: Mapped[str] = mapped_column(String(200), info=INTERNAL)
    name_zh: Mapped[str | None] = mapped_column(String(200), info=INTERNAL)
    kind: Mapped[str] = mapped_column(String(20), info=INTERNAL)  # company, division, department, team
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True, info=INTERNAL)
    path: Mapped[str] = mapped_column(String(400), index=True, info=INTERNAL)
    depth: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    head_employee_id: Mapped[str | None] = mapped_column(String(20), index=True, info=INTERNAL)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint(f"status IN ({_enum_values(EmployeeStatus)})", name="status"),
        CheckConstraint(
            f"leaver_type IS NULL OR leaver_type IN ({_enum_values(LeaverType)})", name="leaver_type"
        ),
    )

    id: Mapped[str] = mapped_column(String(20), primary_key=True, info=INTERNAL)
    given_name: Mapped[str] = mapped_column(String(100), info=INTERNAL)
    family_name: Mapped[str] = mapped_column(String(100), info=INTERNAL)
    display_name: Mapped[str] = mapped_column(String(200), info=INTERNAL)
    work_email: Mapped[str | None] = mapped_column(String(200), unique=True, info=INTERNAL)
    personal_email: Mapped[str | None] = mapped_column(String(200), info=PERSONAL)
    phone: Mapped[str | None] = mapped_column(String(40), info=PERSONAL)
    birth_date: Mapped[date | None] = mapped_column(Date, info=PERSONAL)
    gender: Mapped[str | None] = mapped_column(String(20), info=DEMOGRAPHIC)
    national_id: Mapped[str | None] = mapped_column(String(40), info=NATIONAL_ID)
    hire_date: Mapped[date] = mapped_column(Date, index=True, info=INTERNAL)
    termination_date: Mapped[date | None] = mapped_column(Date, index=True, info=INTERNAL)
    leaver_type: Mapped[str | None] = mapped_column(String(20), info=PERSONAL)
    leaver_reason: Mapped[str | None] = mapped_column(String(60), info=PERSONAL)
    status: Mapped[str] = mapped_column(String(20), default=EmployeeStatus.ACTIVE, info=INTERNAL)
    source: Mapped[str] = mapped_column(String(40), default="manual", info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)


class EmployeeAddress(Base):
    """Home address, effective-dated."""

    __tablename__ = "employee_addresses"
    __table_args__ = (
        Index("ix_employee_addresses_emp_from", "employee_id", "valid_from"),
        UniqueConstraint("employee_id", "valid_from", name="uq_employee_addresses_employee_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), info=INTERNAL)
    line1: Mapped[str] = mapped_column(String(200), info=PERSONAL)
    line2: Mapped[str | None] = mapped_column(String(200), info=PERSONAL)
    city: Mapped[str] = mapped_column(String(100), info=PERSONAL)
    region: Mapped[str | None] = mapped_column(String(100), info=PERSONAL)
    postcode: Mapped[str | None] = mapped_column(String(20), info=PERSONAL)
    country: Mapped[str] = mapped_column(String(2), info=PERSONAL)
    valid_from: Mapped[date] = mapped_column(Date, info=INTERNAL)
    valid_to: Mapped[date | None] = mapped_column(Date, info=INTERNAL)
    request_id: Mapped[str | None] = mapped_column(String(40), info=INTERNAL)


class JobAssignment(Base):
    """Who does what, where and for whom, effective-dated."""

    __tablename__ = "job_assignments"
    __table_args__ = (
        # covering: analytics places each person by the job in force on a day from the index alone
        Index(
            "ix_job_assignments_emp_cover",
            "employee_id",
            "valid_from",
            "valid_to",
            "org_unit_id",
            "location",
            "job_family",
            "level",
        ),
        Index("ix_job_assignments_org_from", "org_unit_id", "valid_from"),
        UniqueConstraint("employee_id", "valid_from", name="uq_job_assignments_employee_day"),
        CheckConstraint("fte > 0 AND fte <= 1", name="fte"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), info=INTERNAL)
    title: Mapped[str] = mapped_column(String(120), info=INTERNAL)
    job_family: Mapped[str] = mapped_column(String(60), index=True, info=INTERNAL)
    level: Mapped[str] = mapped_column(String(10), info=INTERNAL)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), info=INTERNAL)
    manager_id: Mapped[str | None] = mapped_column(ForeignKey("employees.id"), index=True, info=INTERNAL)
    location: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    fte: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("1.00"), info=INTERNAL)
    valid_from: Mapped[date] = mapped_column(Date, info=INTERNAL)
    valid_to: Mapped[date | None] = mapped_column(Date, info=INTERNAL)
    change_reason: Mapped[str] = mapped_column(String(30), info=INTERNAL)
    request_id: Mapped[str | None] = mapped_column(String(40), info=INTERNAL)


class Compensation(Base):
    """Base pay, effective-dated."""

    __tablename__ = "compensation"
    __table_args__ = (
        Index("ix_compensation_emp_from", "employee_id", "valid_from"),
        UniqueConstraint("employee_id", "valid_from", name="uq_compensation_employee_day"),
        CheckConstraint("base_amount > 0", name="base_amount"),
        CheckConstraint(f"frequency IN ({_enum_values(PayFrequency)})", name="frequency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), info=INTERNAL)
    base_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), info=PAY)
    currency: Mapped[str] = mapped_column(String(3), info=PAY)
    frequency: Mapped[str] = mapped_column(String(10), info=PAY)
    valid_from: Mapped[date] = mapped_column(Date, info=INTERNAL)
    valid_to: Mapped[date | None] = mapped_column(Date, info=INTERNAL)
    change_reason: Mapped[str] = mapped_column(String(30), info=PAY)
    request_id: Mapped[str | None] = mapped_column(String(40), info=INTERNAL)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(20), primary_key=True, info=PUBLIC)
    title: Mapped[str] = mapped_column(String(200), info=PUBLIC)
    title_zh: Mapped[str | None] = mapped_column(String(200), info=PUBLIC)
    category: Mapped[str] = mapped_column(String(40), index=True, info=PUBLIC)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), info=PUBLIC)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False, info=PUBLIC)
    delivery: Mapped[str] = mapped_column(String(20), info=PUBLIC)  # online, classroom, blended


class LearningRecord(Base):
    __tablename__ = "learning_records"
    __table_args__ = (
        Index("ix_learning_records_emp", "employee_id", "enrolled_on"),
        # covering: analytics reads enrolments and completions in a period from the indexes alone
        Index(
            "ix_learning_records_enrolled_cover",
            "enrolled_on",
            "employee_id",
            "course_id",
            "completed_on",
            "status",
            "hours",
        ),
        Index(
            "ix_learning_records_completed_cover",
            "completed_on",
            "employee_id",
            "course_id",
            "enrolled_on",
            "status",
            "hours",
        ),
        Index("ix_learning_records_due", "due_on"),  # analytics: mandatory training due in a period
        CheckConstraint(f"status IN ({_enum_values(LearningStatus)})", name="status"),
        CheckConstraint("hours >= 0", name="hours"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), info=INTERNAL)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), index=True, info=INTERNAL)
    enrolled_on: Mapped[date] = mapped_column(Date, info=INTERNAL)
    due_on: Mapped[date | None] = mapped_column(Date, info=INTERNAL)
    completed_on: Mapped[date | None] = mapped_column(Date, info=INTERNAL)
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"), info=INTERNAL)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2), info=RATING)
    status: Mapped[str] = mapped_column(String(20), info=INTERNAL)


class User(Base):
    """A person who can sign in or be named with `--as`. Most users are employees."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(80), primary_key=True, info=INTERNAL)
    employee_id: Mapped[str | None] = mapped_column(ForeignKey("employees.id"), unique=True, info=INTERNAL)
    display_name: Mapped[str] = mapped_column(String(200), info=INTERNAL)
    active: Mapped[bool] = mapped_column(Boolean, default=True, info=INTERNAL)
    # The web console's sign-in (tools/store/passwords.py); None: this user cannot sign in there.
    # A credential: never shown, and never sent to a model (classified personal, so redacted).
    password_hash: Mapped[str | None] = mapped_column(String(200), info=PERSONAL)


class UserRole(Base):
    """Granted roles. `employee` and `manager` are implied by the HR data and not stored;
    an hrbp grant names the org unit (and its subtree) it covers."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("username", "role", "org_unit_id", name="grant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, info=INTERNAL)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True, info=INTERNAL)
    role: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), info=INTERNAL)


class RequestRecord(Base):
    """Human-friendly number (REQ-12) for a request handled by a workflow run. The workflow
    holds the state; this row only finds it."""

    __tablename__ = "requests"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    kind: Mapped[str] = mapped_column(String(40), info=INTERNAL)
    subject_employee_id: Mapped[str] = mapped_column(String(20), index=True, info=INTERNAL)
    workflow_id: Mapped[str] = mapped_column(String(200), index=True, info=INTERNAL)
    run_id: Mapped[str | None] = mapped_column(String(80), info=INTERNAL)
    requested_by: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)

    @property
    def label(self) -> str:
        return f"{REQUEST_PREFIX}{self.number}"


REQUEST_PREFIX = "REQ-"


class ModelReceipt(Base):
    """What one model call sent and where (tools/privacy/receipts.py): the classes of data masked
    and let through, bytes and tokens. `sent_text` is exactly what left the machine, after masking
    (None when nothing did): what the endpoint's policy let through may name people, so personal."""

    __tablename__ = "model_receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True, info=INTERNAL)
    agent: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    model: Mapped[str] = mapped_column(String(200), info=INTERNAL)
    endpoint: Mapped[str] = mapped_column(String(200), info=INTERNAL)
    egress: Mapped[bool] = mapped_column(Boolean, info=INTERNAL)
    request_id: Mapped[str | None] = mapped_column(String(40), index=True, info=INTERNAL)
    workflow_id: Mapped[str | None] = mapped_column(String(200), index=True, info=INTERNAL)
    allowed: Mapped[list[str]] = mapped_column(JSON, default=list, info=INTERNAL)
    masked: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, info=INTERNAL)
    sent: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, info=INTERNAL)
    bytes_sent: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    input_tokens: Mapped[int | None] = mapped_column(Integer, info=INTERNAL)
    output_tokens: Mapped[int | None] = mapped_column(Integer, info=INTERNAL)
    prompt_sha256: Mapped[str] = mapped_column(String(64), info=INTERNAL)
    sent_text: Mapped[str | None] = mapped_column(Text, info=PERSONAL)


class AuditEntry(Base):
    """Append-only, hash-chained record of every change to HR data and every model call.
    Database triggers refuse UPDATE and DELETE. `details` holds field names, ids and counts,
    not personal values (those live in the effective-dated rows the entry points to)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True, info=INTERNAL)
    actor: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    action: Mapped[str] = mapped_column(String(80), index=True, info=INTERNAL)
    entity_type: Mapped[str | None] = mapped_column(String(40), info=INTERNAL)
    entity_id: Mapped[str | None] = mapped_column(String(60), index=True, info=INTERNAL)
    request_id: Mapped[str | None] = mapped_column(String(40), index=True, info=INTERNAL)
    workflow_id: Mapped[str | None] = mapped_column(String(200), info=INTERNAL)
    tool: Mapped[str | None] = mapped_column(String(80), info=INTERNAL)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, info=INTERNAL)
    # Set by writers that may run twice (retried activities): the second append is a no-op.
    event_key: Mapped[str | None] = mapped_column(String(200), unique=True, info=INTERNAL)
    prev_hash: Mapped[str] = mapped_column(String(64), info=INTERNAL)
    hash: Mapped[str] = mapped_column(String(64), unique=True, info=INTERNAL)


class StoreMeta(Base):
    """Key/value facts about this store (how it was seeded, imports done)."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True, info=INTERNAL)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, info=INTERNAL)


class LegacySubmission(Base):
    """A create sent to a legacy system: written just before the final submit is clicked, settled
    once the record is verified (or the system refused it). An unsettled row means the outcome is
    in doubt (the answer was lost, the worker died): the next push waits for the search to show
    the record before it types anything again. Ids only; the values are in the HR tables."""

    __tablename__ = "legacy_submissions"
    __table_args__ = (Index("ix_legacy_submissions_record", "system", "form", "employee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    system: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    form: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    workflow_id: Mapped[str | None] = mapped_column(String(200), info=INTERNAL)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    outcome: Mapped[str | None] = mapped_column(String(30), info=INTERNAL)
    # The legacy system's reference, once an answer named it: the record exists from then on.
    reference: Mapped[str | None] = mapped_column(String(60), info=INTERNAL)


class Delegation(Base):
    """While `from_username` is away (`starts_on <= day <= until`), `to_username` may decide their
    approvals. One hop only: a delegate's own delegations do not pass theirs on."""

    __tablename__ = "delegations"
    __table_args__ = (CheckConstraint("from_username <> to_username", name="not_self"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    from_username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True, info=INTERNAL)
    to_username: Mapped[str] = mapped_column(ForeignKey("users.username"), info=INTERNAL)
    starts_on: Mapped[date] = mapped_column(Date, info=INTERNAL)
    until: Mapped[date] = mapped_column(Date, info=INTERNAL)
    created_by: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=INTERNAL)


class Notification(Base):
    """Outbox of messages to people (approval requests, reminders, escalations). Written by the
    workflows, delivered to each person's channel by the notifier; `event_key` makes a retried
    write a no-op. Ids and request numbers only: no personal values in the text."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_undelivered", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    recipient: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True, info=INTERNAL)
    kind: Mapped[str] = mapped_column(String(40), info=INTERNAL)
    request_id: Mapped[str | None] = mapped_column(String(40), index=True, info=INTERNAL)
    subject: Mapped[str] = mapped_column(String(300), info=INTERNAL)
    body: Mapped[str] = mapped_column(String(2000), info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    event_key: Mapped[str] = mapped_column(String(200), unique=True, info=INTERNAL)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    # Delivery (hrops/channels/delivery.py): the channel it went or goes out on, tries so far,
    # the last failure (an error code or status, never the text), and when it may be tried next.
    # A deliverer claims a row by moving `next_attempt_at` ahead before it sends.
    channel: Mapped[str | None] = mapped_column(String(60), info=INTERNAL)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0", info=INTERNAL)
    last_error: Mapped[str | None] = mapped_column(String(500), info=INTERNAL)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=INTERNAL)


class PayBand(Base):
    """Base-pay range for a level at a location, effective-dated like the pay it bounds.
    Salary changes show where the new pay sits in it; the approval rules look at it."""

    __tablename__ = "pay_bands"
    __table_args__ = (
        UniqueConstraint("level", "location", "valid_from", name="uq_pay_bands_level_location_day"),
        CheckConstraint(
            "min_amount > 0 AND min_amount <= mid_amount AND mid_amount <= max_amount", name="order"
        ),
        CheckConstraint(f"frequency IN ({_enum_values(PayFrequency)})", name="frequency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    level: Mapped[str] = mapped_column(String(10), info=INTERNAL)
    location: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    currency: Mapped[str] = mapped_column(String(3), info=PAY)
    frequency: Mapped[str] = mapped_column(String(10), default=PayFrequency.ANNUAL, info=PAY)
    min_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), info=PAY)
    mid_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), info=PAY)
    max_amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), info=PAY)
    valid_from: Mapped[date] = mapped_column(Date, info=INTERNAL)
    valid_to: Mapped[date | None] = mapped_column(Date, info=INTERNAL)


class EquipmentStatus(StrEnum):
    REQUESTED = "requested"
    CANCELLED = "cancelled"


class EquipmentRequest(Base):
    """Equipment a new hire needs on day one, raised by onboarding for IT to fulfil."""

    __tablename__ = "equipment_requests"
    __table_args__ = (CheckConstraint(f"status IN ({_enum_values(EquipmentStatus)})", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), index=True, info=INTERNAL)
    request_id: Mapped[str] = mapped_column(String(40), unique=True, info=INTERNAL)
    items: Mapped[list[str]] = mapped_column(JSON, info=INTERNAL)
    deliver_to: Mapped[str] = mapped_column(String(60), info=INTERNAL)  # the work location
    needed_by: Mapped[date] = mapped_column(Date, info=INTERNAL)
    status: Mapped[str] = mapped_column(String(20), default=EquipmentStatus.REQUESTED, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=INTERNAL)


class UnansweredQuestion(Base):
    """A data question the analytics parser refused: kept so coverage grows where people ask.
    The text is the asker's own words and may name people: it is shown to admins only."""

    __tablename__ = "unanswered_questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    asked_by: Mapped[str] = mapped_column(String(80), index=True, info=INTERNAL)
    language: Mapped[str] = mapped_column(String(5), info=INTERNAL)
    question: Mapped[str] = mapped_column(String(1000), info=PERSONAL)
    reason: Mapped[str] = mapped_column(String(500), info=INTERNAL)


class EmployeeFact(Base):
    """A number a file states about an employee on the day it was taken (e.g. the IBM sample's
    TrainingTimesLastYear): one observation per employee, name and day, not effective-dated
    history. Imported by a mapping's `facts:` section; analytics counts each employee's latest
    observation. Only non-sensitive numbers belong here (ratings and pay have their own tables)."""

    __tablename__ = "employee_facts"
    __table_args__ = (
        UniqueConstraint("employee_id", "name", "as_of", name="uq_employee_facts_employee_name_day"),
        Index("ix_employee_facts_name_day", "name", "as_of"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), info=INTERNAL)
    name: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 4), info=PERSONAL)
    as_of: Mapped[date] = mapped_column(Date, info=INTERNAL)
    source: Mapped[str] = mapped_column(String(40), info=INTERNAL)


class AnalyticsRelease(Base):
    """A sensitive figure shown to someone, with the people behind it, so a later figure that differs
    from it by fewer than 5 people (a total next to a total-minus-one) can be refused."""

    __tablename__ = "analytics_releases"
    __table_args__ = (Index("ix_analytics_releases_lookup", "asked_by", "metric", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    asked_by: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    metric: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    period: Mapped[str] = mapped_column(String(30), info=INTERNAL)  # "as of DAY" or "START..END"
    size: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    members: Mapped[str] = mapped_column(String, info=INTERNAL)  # sorted employee ids, comma-separated


class ChannelLink(Base):
    """Who a chat account is: (channel, the platform's user id) -> product username. Channels are
    `slack`, `feishu` and `webhook:<name>`. Made with `hrops channels link`; a person's newest link
    is where their notifications go."""

    __tablename__ = "channel_links"
    __table_args__ = (
        UniqueConstraint("channel", "platform_id", name="uq_channel_links_channel_platform_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    channel: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    platform_id: Mapped[str] = mapped_column(String(200), info=INTERNAL)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True, info=INTERNAL)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    linked_by: Mapped[str] = mapped_column(String(80), info=INTERNAL)


class ChannelMessage(Base):
    """A chat message or click already taken in, by the platform's id: platforms deliver again when
    an answer is slow, and the second delivery must change nothing. Ids only; kept for a week."""

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("channel", "message_id", name="uq_channel_messages_channel_message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    channel: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    message_id: Mapped[str] = mapped_column(String(200), info=INTERNAL)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True, info=INTERNAL)


class OutputReview(Base):
    """A model-written output sampled for compliance review (tools/review): what the agent was asked
    (the prompt as sent, after redaction) and wrote, and the reviewer's verdict. One row per model
    call (`source`, the call's receipt id), so offering the same output twice keeps one row. A
    correction is the output as it should have been; corrections become evaluation cases."""

    __tablename__ = "review_items"
    __table_args__ = (
        CheckConstraint("risk IN ('low', 'medium', 'high')", name="risk"),
        CheckConstraint("status IN ('pending', 'approved', 'corrected')", name="status"),
        Index("ix_review_items_queue", "status", "topic"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    source: Mapped[str] = mapped_column(String(200), unique=True, info=INTERNAL)
    topic: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    risk: Mapped[str] = mapped_column(String(10), info=INTERNAL)
    rule: Mapped[str] = mapped_column(String(100), info=INTERNAL)  # the sampling rule that picked it
    agent: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    request_id: Mapped[str | None] = mapped_column(String(40), index=True, info=INTERNAL)
    workflow_id: Mapped[str | None] = mapped_column(String(200), info=INTERNAL)
    # Who asked for the request and whom it is about: neither may review it.
    requested_by: Mapped[str | None] = mapped_column(String(80), info=INTERNAL)
    subject_employee_id: Mapped[str | None] = mapped_column(String(20), info=INTERNAL)
    endpoint: Mapped[str | None] = mapped_column(String(200), info=INTERNAL)
    # What a model saw and wrote names people (whatever the endpoint's policy let through): personal.
    prompt: Mapped[str] = mapped_column(String, info=PERSONAL)
    output: Mapped[Any] = mapped_column(
        JSON, nullable=False, info=PERSONAL
    )  # a JSON object, or a string for text
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    status: Mapped[str] = mapped_column(String(20), default="pending", info=INTERNAL)
    decided_by: Mapped[str | None] = mapped_column(String(80), info=INTERNAL)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    reason: Mapped[str | None] = mapped_column(String(1000), info=PERSONAL)
    correction: Mapped[Any | None] = mapped_column(JSON(none_as_null=True), nullable=True, info=PERSONAL)


class KbDocument(Base):
    """One imported version of a policy document (tools/knowledge). On day D the version in force
    for a `doc_id` is the one with the latest `effective_from <= D`, the later import winning a tie;
    older versions stay, so an answer given last month can still be shown with what it cited."""

    __tablename__ = "kb_documents"
    __table_args__ = (
        UniqueConstraint("doc_id", "version", name="uq_kb_documents_doc_version"),
        CheckConstraint("language IN ('en', 'zh')", name="language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    doc_id: Mapped[str] = mapped_column(String(80), index=True, info=INTERNAL)
    version: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    title: Mapped[str] = mapped_column(String(300), info=INTERNAL)
    language: Mapped[str] = mapped_column(String(5), info=INTERNAL)
    topic: Mapped[str] = mapped_column(String(60), info=INTERNAL)
    effective_from: Mapped[date] = mapped_column(Date, info=INTERNAL)
    # {"countries": [...], "locations": [...], "groups": [...]}; an empty list: everyone on that axis
    scope: Mapped[dict[str, list[str]]] = mapped_column(JSON, info=INTERNAL)
    source_name: Mapped[str] = mapped_column(String(300), info=INTERNAL)  # the file name, not its path
    sha256: Mapped[str] = mapped_column(String(64), info=INTERNAL)  # of the file: a re-import is a no-op
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    imported_by: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    sections: Mapped[list[KbSection]] = relationship(
        back_populates="document", order_by="KbSection.ordinal", cascade="all, delete-orphan"
    )


class KbSection(Base):
    """A citable section of one document version: its anchor is stable across versions."""

    __tablename__ = "kb_sections"
    __table_args__ = (UniqueConstraint("document_id", "anchor", name="uq_kb_sections_document_anchor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    document_id: Mapped[int] = mapped_column(ForeignKey("kb_documents.id"), index=True, info=INTERNAL)
    ordinal: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    anchor: Mapped[str] = mapped_column(String(120), info=INTERNAL)
    heading: Mapped[str] = mapped_column(String(300), info=INTERNAL)
    path: Mapped[list[str]] = mapped_column(JSON, info=INTERNAL)
    text: Mapped[str] = mapped_column(Text, info=INTERNAL)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list, info=INTERNAL)
    # Questions the author says the section answers (sections.QUESTIONS_LINE), in employees' words.
    questions: Mapped[list[str]] = mapped_column(JSON, default=list, info=INTERNAL)
    document: Mapped[KbDocument] = relationship(back_populates="sections")


class KbCase(Base):
    """A policy question handed to HR ops (the second tier): what was asked, why it was handed on,
    what the search found and the draft answer, and HR's answer once given. The question is the
    asker's own words: personal."""

    __tablename__ = "kb_cases"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'answered')", name="status"),
        CheckConstraint("reason IN ('sensitive', 'person', 'unsupported', 'low_confidence')", name="reason"),
        Index("ix_kb_cases_queue", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    asker: Mapped[str] = mapped_column(String(80), index=True, info=INTERNAL)
    question: Mapped[str] = mapped_column(Text, info=PERSONAL)
    language: Mapped[str] = mapped_column(String(5), info=INTERNAL)
    asked_on: Mapped[date] = mapped_column(Date, info=INTERNAL)
    reason: Mapped[str] = mapped_column(String(20), info=INTERNAL)
    category: Mapped[str | None] = mapped_column(String(40), info=INTERNAL)
    # The asker's scope when asked ({"country", "location", "group"}): where a correction applies.
    asker_scope: Mapped[dict[str, str | None]] = mapped_column(JSON, info=INTERNAL)
    retrieved: Mapped[list[str]] = mapped_column(JSON, info=INTERNAL)  # doc#anchor@version, best first
    draft: Mapped[str | None] = mapped_column(Text, info=INTERNAL)  # the quoted passages it would have given
    # What made triage hand it on: the asker's words a pattern matched, or the example it was nearest.
    triage_why: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    status: Mapped[str] = mapped_column(String(20), default="open", info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    answered_by: Mapped[str | None] = mapped_column(String(80), info=INTERNAL)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    answer: Mapped[str | None] = mapped_column(Text, info=PERSONAL)
    correction_id: Mapped[int | None] = mapped_column(ForeignKey("kb_corrections.id"), info=INTERNAL)


class KbCorrection(Base):
    """An HR answer saved for reuse: the assistant answers the same question with it next time (as
    "answered by HR on DATE"), for askers within its scope, and it is an evaluation case."""

    __tablename__ = "kb_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    question: Mapped[str] = mapped_column(Text, info=INTERNAL)  # as HR saved it, reviewed for reuse
    language: Mapped[str] = mapped_column(String(5), info=INTERNAL)
    answer: Mapped[str] = mapped_column(Text, info=INTERNAL)
    scope: Mapped[dict[str, list[str]]] = mapped_column(JSON, info=INTERNAL)  # as KbDocument.scope
    cites: Mapped[list[str]] = mapped_column(JSON, info=INTERNAL)  # doc#anchor HR points to, if any
    answered_by: Mapped[str] = mapped_column(String(80), info=INTERNAL)
    answered_on: Mapped[date] = mapped_column(Date, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    active: Mapped[bool] = mapped_column(Boolean, default=True, info=INTERNAL)


class LeaveType(StrEnum):
    ANNUAL = "annual"
    SICK = "sick"
    MARRIAGE = "marriage"
    MATERNITY = "maternity"
    PATERNITY = "paternity"
    BEREAVEMENT = "bereavement"
    CHILDCARE = "childcare"
    UNPAID = "unpaid"


class LeaveStatus(StrEnum):
    APPROVED = "approved"
    CANCELLED = "cancelled"


class LeaveRecord(Base):
    """Time off booked and approved (or cancelled) in the HR system. An approved record starting
    after today is booked, not yet taken; a balance counts both (tools/hr/leave.py). Who was away
    when, and for what, is personal."""

    __tablename__ = "leave_records"
    __table_args__ = (
        Index("ix_leave_records_emp_start", "employee_id", "start_on"),
        CheckConstraint(f"leave_type IN ({_enum_values(LeaveType)})", name="leave_type"),
        CheckConstraint(f"status IN ({_enum_values(LeaveStatus)})", name="status"),
        CheckConstraint("days > 0", name="days"),
        CheckConstraint("end_on >= start_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, info=INTERNAL)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), info=INTERNAL)
    leave_type: Mapped[str] = mapped_column(String(20), info=PERSONAL)
    start_on: Mapped[date] = mapped_column(Date, info=PERSONAL)
    end_on: Mapped[date] = mapped_column(Date, info=PERSONAL)
    days: Mapped[Decimal] = mapped_column(Numeric(5, 1), info=PERSONAL)  # working days, half-day steps
    status: Mapped[str] = mapped_column(String(20), default=LeaveStatus.APPROVED, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)


class KbSectionVector(Base):
    """A policy section's embedding by one embedding model (tools/knowledge/embeddings.py): unit
    length, float32 little-endian; the head of the section first, then (for a long one, by the
    model's recipe) the windows of the rest, each `dim` floats. Only the configured model's vectors
    made by its current recipe are read; a section keeps its vectors when the model changes, so
    switching back does not embed everything again."""

    __tablename__ = "kb_section_vectors"

    model: Mapped[str] = mapped_column(String(200), primary_key=True, info=INTERNAL)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("kb_sections.id", ondelete="CASCADE"), primary_key=True, info=INTERNAL
    )
    dim: Mapped[int] = mapped_column(Integer, info=INTERNAL)
    vector: Mapped[bytes] = mapped_column(LargeBinary, info=INTERNAL)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), info=INTERNAL)
    # How the texts were cut (embeddings.recipe): a row made another way is embedded again.
    recipe: Mapped[str] = mapped_column(String(100), default="", server_default="", info=INTERNAL)
    # How many of the vectors, at the end, are the section's sample questions (embedded as
    # questions are), not parts of its text.
    asked: Mapped[int] = mapped_column(Integer, default=0, server_default="0", info=INTERNAL)
