"""Typed employee record changes: what a request asks for, what its check shows, what applying did.

One `RecordChange` per request; its `details` say which kind (address, job title, transfer,
manager change, salary change, termination) and carry only that kind's fields. Approvers may
correct some fields when approving (`EDITABLE`); `with_edits()` re-validates the result.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from tools.approvals.rules import ChangeType
from tools.hr.schemas import EmployeeProfile, EmployeeRef, PostalAddress
from tools.store.models import LeaverType, PayFrequency

# ISO 4217 codes of currencies a payroll can pay in here. A code outside this list is a typo
# far more often than a new currency; add it here when a company really pays in it.
CURRENCIES = frozenset(
    [
        "AED",
        "AUD",
        "BRL",
        "CAD",
        "CHF",
        "CNY",
        "CZK",
        "DKK",
        "EUR",
        "GBP",
        "HKD",
        "IDR",
        "ILS",
        "INR",
        "JPY",
        "KRW",
        "MXN",
        "MYR",
        "NOK",
        "NZD",
        "PHP",
        "PLN",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "USD",
        "VND",
        "ZAR",
    ]
)


def known_currency(v: str) -> str:
    code = (v or "").strip().upper()
    if code not in CURRENCIES:
        raise ValueError(f"{v!r} is not a currency we pay in (ISO 4217, e.g. CNY, SGD, USD)")
    return code


class TerminationReason(StrEnum):
    """Reason codes; each implies whether the leaving was voluntary."""

    BETTER_OFFER = "better_offer"
    CAREER_CHANGE = "career_change"
    RELOCATION = "relocation"
    PERSONAL = "personal"
    FURTHER_STUDY = "further_study"
    RETIREMENT = "retirement"
    PERFORMANCE = "performance"
    REDUNDANCY = "redundancy"
    MISCONDUCT = "misconduct"
    CONTRACT_END = "contract_end"

    @property
    def leaver_type(self) -> LeaverType:
        involuntary = {self.PERFORMANCE, self.REDUNDANCY, self.MISCONDUCT, self.CONTRACT_END}
        return LeaverType.INVOLUNTARY if self in involuntary else LeaverType.VOLUNTARY


def required_text(v: str) -> str:
    """Whitespace collapsed; empty is an error."""
    v = " ".join((v or "").split())
    if not v:
        raise ValueError("must not be empty")
    return v


def _employee_id(v: str | None) -> str | None:
    return (v.strip().upper() or None) if v is not None else None


def _required_id(v: str) -> str:
    if not (v := (v or "").strip().upper()):
        raise ValueError("an employee id is required")
    return v


class AddressDetails(BaseModel):
    kind: Literal[ChangeType.ADDRESS_CHANGE] = ChangeType.ADDRESS_CHANGE
    address: PostalAddress


class JobTitleDetails(BaseModel):
    kind: Literal[ChangeType.JOB_TITLE] = ChangeType.JOB_TITLE
    title: str = Field(max_length=120)

    _title = field_validator("title")(required_text)


class TransferDetails(BaseModel):
    kind: Literal[ChangeType.TRANSFER] = ChangeType.TRANSFER
    org_unit: str = Field(description="Code of the department to move to, e.g. ENG-DATA")
    manager_id: str | None = Field(None, description="The new manager; default: the department's head")
    location: str | None = Field(None, description="New work location; default: unchanged")

    @field_validator("org_unit")
    @classmethod
    def _code(cls, v: str) -> str:
        return required_text(v).upper()

    _manager = field_validator("manager_id")(_employee_id)


class ManagerDetails(BaseModel):
    kind: Literal[ChangeType.MANAGER_CHANGE] = ChangeType.MANAGER_CHANGE
    manager_id: str

    _manager = field_validator("manager_id")(_required_id)


class SalaryDetails(BaseModel):
    kind: Literal[ChangeType.SALARY_CHANGE] = ChangeType.SALARY_CHANGE
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="New base pay")
    currency: str = Field(description="ISO 4217, e.g. CNY, SGD, USD")
    frequency: PayFrequency = PayFrequency.ANNUAL

    _currency = field_validator("currency")(known_currency)


class TerminationDetails(BaseModel):
    kind: Literal[ChangeType.TERMINATION] = ChangeType.TERMINATION
    reason: TerminationReason


ChangeDetails = Annotated[
    AddressDetails | JobTitleDetails | TransferDetails | ManagerDetails | SalaryDetails | TerminationDetails,
    Field(discriminator="kind"),
]

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postcode", "country")
# What an approver may correct when approving, per kind.
EDITABLE: dict[ChangeType, tuple[str, ...]] = {
    ChangeType.ADDRESS_CHANGE: ADDRESS_FIELDS,
    ChangeType.JOB_TITLE: ("title",),
    ChangeType.TRANSFER: ("org_unit", "manager_id", "location"),
    ChangeType.MANAGER_CHANGE: ("manager_id",),
    ChangeType.SALARY_CHANGE: ("amount", "currency"),
    ChangeType.TERMINATION: ("reason",),
}


class RecordChange(EmployeeRef):
    details: ChangeDetails
    effective_on: date = Field(
        description="First day the change is in force (for a termination: the first day no longer employed)"
    )
    undoes: str | None = Field(None, description="The request this change compensates (undo)")

    @property
    def kind(self) -> ChangeType:
        return self.details.kind

    def with_edits(self, edits: dict[str, str]) -> RecordChange:
        """The change with an approver's corrections (raises ValueError saying what is wrong)."""
        data = self.details.model_dump()
        if self.kind is ChangeType.ADDRESS_CHANGE:
            data["address"] = {**data["address"], **edits}
        else:
            data.update(edits)
        try:
            return self.model_copy(update={"details": type(self.details).model_validate(data)})
        except ValidationError as e:
            raise ValueError(
                "; ".join(f"{'.'.join(map(str, x['loc'][-1:])) or 'value'}: {x['msg']}" for x in e.errors())
            ) from None


class FieldDiff(BaseModel):
    field: str
    before: str | None
    after: str | None


class Routing(BaseModel):
    """What the approval rules look at, worked out from the store."""

    new_manager_id: str | None = None
    increase_percent: Decimal | None = None
    outside_pay_band: bool | None = None


class ChangeCheck(BaseModel):
    """The diff preview approvers see, or why the change cannot be made. Changes nothing."""

    employee: EmployeeProfile | None = None
    as_of: date | None = Field(None, description="The store's today when checked")
    diff: list[FieldDiff] = []
    side_effects: list[str] = Field([], description="What else changes with it, in words")
    routing: Routing = Routing()
    notify: list[str] = Field([], description="Usernames told once the change is applied")
    problems: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.problems


class ChangeApplied(BaseModel):
    employee_id: str
    table: str
    record_id: int | None = Field(None, description="The new effective-dated row (None: employee row)")
    previous_record_id: int | None = None
    effective_on: date
    rescinded_same_day: bool = Field(False, description="An undo on the day the undone change started")
    already_applied: bool = Field(False, description="True when this request had been applied before")

    @property
    def record(self) -> str:
        """What was written, in words: `address record #12`, `employee record`."""
        noun = {"employee_addresses": "address", "job_assignments": "job", "compensation": "pay"}.get(
            self.table, "employee"
        )
        return f"{noun} record" + (f" #{self.record_id}" if self.record_id else "")
