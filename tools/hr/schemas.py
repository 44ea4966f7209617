"""Typed inputs and outputs of the HR tools."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator, model_validator

from tools.hr.countries import ISO_ALPHA2, POSTCODES


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


class EmployeeRef(BaseModel):
    employee_id: str = Field(description="Employee id, e.g. E100042")

    @field_validator("employee_id")
    @classmethod
    def _normalise(cls, v: str) -> str:
        v = v.strip().upper()
        if not v:
            raise ValueError("an employee id is required")
        return v


class EmployeeProfile(BaseModel):
    """Internal, non-personal facts any colleague may see."""

    employee_id: str
    display_name: str
    status: str
    title: str | None = None
    org_unit_code: str | None = None
    org_unit_name: str | None = None
    manager_id: str | None = None
    location: str | None = None
    hire_date: date
    termination_date: date | None = None


class EmployeeSearch(BaseModel):
    text: str = Field(min_length=1, description="Part of a name, a work email or an employee id")
    limit: int = Field(20, ge=1, le=200)


class EmployeeMatches(BaseModel):
    matches: list[EmployeeProfile]


class PostalAddress(BaseModel):
    """A home address. Whitespace is normalised; country is ISO 3166-1 alpha-2."""

    line1: str = Field(description="Street and number, or 省市区 + 路 + 号")
    line2: str | None = None
    city: str
    region: str | None = None
    postcode: str | None = None
    country: str = Field(description="ISO 3166-1 alpha-2, e.g. CN, SG, GB, US")

    @model_validator(mode="before")
    @classmethod
    def _tidy(cls, data: object) -> object:
        if isinstance(data, dict):
            data = {k: _clean(v) if isinstance(v, str) else v for k, v in data.items()}
        return data

    @field_validator("line1", "city", mode="before")
    @classmethod
    def _required(cls, v: str | None) -> str:
        if not v:
            raise ValueError("must not be empty")
        return v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        code = (v or "").upper()
        if code not in ISO_ALPHA2:
            raise ValueError(f"{v!r} is not an ISO 3166-1 alpha-2 country code (e.g. CN, SG, GB, US)")
        return code

    @model_validator(mode="after")
    def _postcode_shape(self) -> PostalAddress:
        if self.postcode:
            self.postcode = self.postcode.upper()
        rule = POSTCODES.get(self.country)
        if rule and self.postcode and not rule[0].match(self.postcode):
            raise ValueError(
                f"postcode {self.postcode!r} does not look like a {self.country} postcode ({rule[1]})"
            )
        return self

    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, self.region, self.postcode, self.country]
        return ", ".join(p for p in parts if p)


class CurrentAddress(BaseModel):
    employee_id: str
    address: PostalAddress | None
    valid_from: date | None = None


class AddressChange(EmployeeRef):
    address: PostalAddress
    effective_on: date


class AddressChangeCheck(BaseModel):
    """What the request would do, or why it cannot be made. Shown before anything starts."""

    employee: EmployeeProfile | None = None
    current: PostalAddress | None = None
    proposed: PostalAddress | None = None
    effective_on: date | None = None
    problems: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.problems


class AddressChangeApplied(BaseModel):
    employee_id: str
    record_id: int
    previous_record_id: int | None
    effective_on: date
    already_applied: bool = Field(False, description="True when this request had been applied before")


class ApproverRef(BaseModel):
    username: str
    employee_id: str | None = None
    display_name: str
    on_behalf_of: str | None = Field(None, description="Username of the approver this one stands in for")
