"""Typed inputs and outputs of the onboarding tools: the offer, its check, what each step created,
the plan the onboarding agent writes and the readiness report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tools.approvals.rules import ChangeType
from tools.hr.approvers import PlanQuery
from tools.hr.changes import known_currency, required_text
from tools.hr.schemas import PostalAddress
from tools.store.models import PayFrequency


class NewHire(BaseModel):
    """The offer data HR ops approve before anything is created."""

    given_name: str = Field(max_length=100, description="In Latin letters, e.g. Fang")
    family_name: str = Field(max_length=100, description="In Latin letters, e.g. Wang")
    local_name: str | None = Field(None, max_length=100, description="The name as written locally, e.g. 王芳")
    title: str = Field(max_length=120)
    org_unit: str = Field(description="Department code, e.g. ENG-DATA")
    manager_id: str
    location: str = Field(description="Work location, e.g. Shanghai")
    level: str = Field("L3", pattern=r"^L\d{1,2}$")
    start_date: date
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="Base pay")
    currency: str
    frequency: PayFrequency = PayFrequency.ANNUAL
    personal_email: str | None = None
    birth_date: date | None = Field(None, description="Personal data: legacy systems often require it")
    gender: Literal["female", "male"] | None = None
    national_id: str | None = Field(None, max_length=40)
    home: PostalAddress | None = None

    _names = field_validator("given_name", "family_name", "title")(required_text)

    @field_validator("org_unit", "manager_id")
    @classmethod
    def _upper(cls, v: str) -> str:
        return required_text(v).upper()

    _currency = field_validator("currency")(known_currency)

    @property
    def display_name(self) -> str:
        return self.local_name or f"{self.given_name} {self.family_name}"


class OnboardingCheck(BaseModel):
    problems: list[str] = []
    notes: list[str] = Field([], description="Worth knowing, not blocking (e.g. pay outside the band)")
    outside_pay_band: bool | None = None
    manager_name: str | None = None
    org_unit_name: str | None = None
    as_of: date | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def offer_plan_query(hire: NewHire, check: OnboardingCheck, requested_by: str) -> PlanQuery:
    """What the rules need to route an offer: seen from the hiring manager (no record exists yet)."""
    return PlanQuery(
        change=ChangeType.ONBOARDING,
        requested_by=requested_by,
        new_manager_id=hire.manager_id,
        level=hire.level,
        outside_pay_band=check.outside_pay_band,
    )


class HireCreated(BaseModel):
    employee_id: str
    already_created: bool = False


class AccountArgs(BaseModel):
    employee_id: str


class Account(BaseModel):
    employee_id: str
    username: str
    email: str
    collision: bool = Field(False, description="The first choice was taken; a number was added")
    already_created: bool = False


class EquipmentArgs(BaseModel):
    employee_id: str
    request_id: str


class Equipment(BaseModel):
    request_number: int
    items: list[str]
    needed_by: date


class PlanInputs(BaseModel):
    """What the onboarding agent may use: it picks from these and writes the words."""

    employee_id: str
    title: str
    team: str
    location: str
    start_date: date
    manager_id: str
    mandatory_courses: list[str]
    role_courses: list[str]
    course_titles: dict[str, str]
    buddies: list[str] = Field(description="Same team, more than a year of tenure, not the manager")


class OnboardingPlan(BaseModel):
    goals_30: list[str] = Field(min_length=1, description="First 30 days")
    goals_60: list[str] = Field(min_length=1, description="By day 60")
    goals_90: list[str] = Field(min_length=1, description="By day 90")
    courses: list[str] = Field(description="Course ids to enrol in (all mandatory ones included)")
    buddy_id: str | None = None
    welcome_en: str
    welcome_zh: str


class EnrolArgs(BaseModel):
    employee_id: str
    courses: list[str]
    start_date: date


class Enrolled(BaseModel):
    enrolled: list[str]
    already: list[str] = []


class Step(StrEnum):
    """Onboarding steps that leave something behind, in the order they are undone on cancel."""

    ENROLMENTS = "enrolments"
    EQUIPMENT = "equipment"
    ACCOUNT = "account"
    RECORDS = "records"


class UndoArgs(BaseModel):
    employee_id: str
    step: Step


class Undone(BaseModel):
    step: Step
    changed: int = Field(description="Rows changed (0: there was nothing left to undo)")
