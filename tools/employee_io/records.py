"""One imported employee, validated: field rules in the pydantic model, rules across fields in
`cross_check` (so each problem can name the field, and hence the source column, it is about)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from tools.employee_io.targets import TARGETS
from tools.hr.countries import ISO_ALPHA2
from tools.hr.schemas import PostalAddress
from tools.store.models import EmployeeStatus, LeaverType, PayFrequency

# ISO 4217 codes we expect in HR files; extend when a company pays in another currency.
CURRENCIES = frozenset(
    [
        "AED",
        "AUD",
        "BDT",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "JPY",
        "KRW",
        "KZT",
        "MAD",
        "MXN",
        "MYR",
        "NGN",
        "NOK",
        "NZD",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "VND",
        "ZAR",
    ]
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def _choices(enum: type[Any]) -> str:
    return " | ".join(m.value for m in enum)


class EmployeeRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    employee_id: str
    given_name: str | None = None
    family_name: str | None = None
    display_name: str | None = None
    work_email: str | None = None
    personal_email: str | None = None
    phone: str | None = None
    birth_date: date | None = None
    gender: str | None = None
    national_id: str | None = None
    hire_date: date
    termination_date: date | None = None
    status: str | None = None
    leaver_type: str | None = None
    leaver_reason: str | None = None
    title: str
    job_family: str
    level: str
    org_unit_code: str | None = None
    org_unit_name: str | None = None
    manager_id: str | None = None
    location: str
    fte: Decimal = Decimal("1")
    base_amount: Decimal | None = None
    currency: str | None = None
    pay_frequency: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_city: str | None = None
    address_region: str | None = None
    address_postcode: str | None = None
    address_country: str | None = None

    @field_validator("*", mode="after")
    @classmethod
    def _fits_column(cls, v: Any, info: ValidationInfo) -> Any:
        limit = TARGETS[info.field_name].max_length if info.field_name else None
        if isinstance(v, str) and limit and len(v) > limit:
            raise ValueError(f"too long: {len(v)} characters, at most {limit}")
        return v

    @field_validator("employee_id", "manager_id", "currency", "address_country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else v

    @field_validator("status", "leaver_type", "pay_frequency", "work_email", "personal_email")
    @classmethod
    def _lower(cls, v: str | None) -> str | None:
        return v.lower() if v else v

    @field_validator("employee_id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if any(ch.isspace() for ch in v):
            raise ValueError(f"employee id {v!r} contains spaces")
        return v

    @field_validator("work_email", "personal_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v and not _EMAIL.match(v):
            raise ValueError(f"{v!r} is not an email address")
        return v

    @field_validator("status")
    @classmethod
    def _status(cls, v: str | None) -> str | None:
        if v and v not in EmployeeStatus._value2member_map_:
            raise ValueError(
                f"unknown status {v!r}: expected {_choices(EmployeeStatus)} (use `map` to translate)"
            )
        return v

    @field_validator("leaver_type")
    @classmethod
    def _leaver_type(cls, v: str | None) -> str | None:
        if v and v not in LeaverType._value2member_map_:
            raise ValueError(
                f"unknown leaver type {v!r}: expected {_choices(LeaverType)} (use `map` to translate)"
            )
        return v

    @field_validator("pay_frequency")
    @classmethod
    def _frequency(cls, v: str | None) -> str | None:
        if v and v not in PayFrequency._value2member_map_:
            raise ValueError(
                f"unknown pay frequency {v!r}: expected {_choices(PayFrequency)} (use `map` to translate)"
            )
        return v

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str | None) -> str | None:
        if v and v not in CURRENCIES:
            raise ValueError(
                f"unknown currency {v!r}: expected an ISO 4217 code such as CNY, USD, EUR, GBP, SGD"
            )
        return v

    @field_validator("address_country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if v and v not in ISO_ALPHA2:
            raise ValueError(f"{v!r} is not an ISO 3166-1 alpha-2 country code (e.g. CN, SG, GB, US)")
        return v

    @field_validator("base_amount")
    @classmethod
    def _positive_pay(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and v <= 0:
            raise ValueError(f"pay must be more than 0, got {v}")
        if v is not None and v.as_tuple().exponent < -2:  # type: ignore[operator]
            raise ValueError(f"pay {v} has more than 2 decimal places")
        return v

    @field_validator("fte")
    @classmethod
    def _fte(cls, v: Decimal) -> Decimal:
        if not Decimal(0) < v <= Decimal(1):
            raise ValueError(f"fte must be more than 0 and at most 1 (e.g. 0.8), got {v}")
        return v.quantize(Decimal("0.01"))

    # --- derived ---------------------------------------------------------------------------------

    @property
    def name_for_display(self) -> str:
        return self.display_name or " ".join(p for p in (self.given_name, self.family_name) if p)

    @property
    def has_pay(self) -> bool:
        return self.base_amount is not None

    @property
    def has_address(self) -> bool:
        return any(getattr(self, f) for f in ADDRESS_FIELDS)


ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "address_city",
    "address_region",
    "address_postcode",
    "address_country",
)


def cross_check(record: EmployeeRecord, as_of: date) -> list[tuple[str, str]]:
    """(field, problem) for rules across fields; fills in the derived status."""
    problems: list[tuple[str, str]] = []
    if not record.name_for_display:
        problems.append(
            ("display_name", "missing required value (no display name, given name or family name)")
        )
    if not record.org_unit_code and not record.org_unit_name:
        field = "org_unit_code" if "org_unit_code" in record.model_fields_set else "org_unit_name"
        problems.append((field, "missing required value (org unit)"))
    term = record.termination_date
    if term is not None and term <= record.hire_date:
        problems.append(
            ("termination_date", f"termination date {term} is not after the hire date {record.hire_date}")
        )
    if record.birth_date is not None and record.birth_date >= record.hire_date:
        problems.append(
            ("birth_date", f"birth date {record.birth_date} is not before the hire date {record.hire_date}")
        )
    if record.status is None:
        record.status = (
            EmployeeStatus.TERMINATED if term is not None and term <= as_of else EmployeeStatus.ACTIVE
        )
    elif record.status == EmployeeStatus.TERMINATED and term is None:
        problems.append(("status", "status is terminated but there is no termination_date"))
    elif record.status == EmployeeStatus.ACTIVE and term is not None and term <= as_of:
        problems.append(
            ("status", f"status is active but the termination date {term} is on or before {as_of}")
        )
    for field in ("leaver_type", "leaver_reason"):
        if getattr(record, field) and term is None:
            problems.append((field, f"{field} given but there is no termination_date"))
    if record.has_pay:
        for field in ("currency", "pay_frequency"):
            if not getattr(record, field):
                problems.append((field, f"missing required value ({field} for the base pay)"))
    else:
        for field in ("currency", "pay_frequency"):
            if getattr(record, field):
                problems.append(
                    ("base_amount", f"missing required value ({field} is given, the amount is not)")
                )
                break
    if record.has_address:
        problems += _address_problems(record)
    return problems


def _address_problems(record: EmployeeRecord) -> list[tuple[str, str]]:
    missing = [f for f in ("address_line1", "address_city", "address_country") if not getattr(record, f)]
    if missing:
        return [(f, "missing required value (part of the home address)") for f in missing]
    try:
        address = PostalAddress(**{f.removeprefix("address_"): getattr(record, f) for f in ADDRESS_FIELDS})
    except ValidationError as e:
        return [
            (
                "address_" + (str(err["loc"][0]) if err["loc"] else "postcode"),
                err["msg"].removeprefix("Value error, "),
            )
            for err in e.errors()
        ]
    for f in ADDRESS_FIELDS:  # stored as the address tools normalise it (e.g. upper-case postcodes)
        setattr(record, f, getattr(address, f.removeprefix("address_")))
    return []


class RowError(BaseModel):
    row: int  # as Excel shows it: the header row counts
    column: str | None = None  # source column(s); None when the problem is not about one column
    field: str | None = None  # employee field
    message: str

    def __str__(self) -> str:
        return f"row {self.row}" + (f", column {self.column}" if self.column else "") + f": {self.message}"


@dataclass
class ParsedRow:
    """A source row after reading: its record when it could be built, and every problem found."""

    number: int
    employee_id: str | None
    record: EmployeeRecord | None
    errors: list[RowError] = field(default_factory=list)
    existing: bool = False
    facts: dict[str, Decimal] = field(default_factory=dict)  # the mapping's `facts:`, read from this row

    @property
    def good(self) -> bool:
        return self.record is not None and not self.errors
