"""The HR record as legacy mappings see it: one flat, typed view of an employee on a date.

Mappings name these attributes in `source:`; `hrops legacy fields` lists them. Flat on purpose:
a mapping author should not need to know the store's tables.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from tools.store import queries
from tools.store.models import Compensation, Employee, EmployeeAddress, JobAssignment, OrgUnit


class LegacyEmployee(BaseModel):
    employee_id: str
    family_name: str
    given_name: str
    display_name: str
    local_name: str | None = None  # the name in Chinese characters, when the display name has them
    birth_date: date | None = None
    gender: str | None = None
    national_id: str | None = None
    hire_date: date
    division: str | None = None  # top organisation below the company, e.g. Engineering
    org_unit: str | None = None
    title: str | None = None
    level: str | None = None
    job_family: str | None = None
    location: str | None = None
    fte: Decimal | None = None
    base_amount: Decimal | None = None
    currency: str | None = None
    pay_frequency: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _division(session: Session, unit: OrgUnit) -> str:
    ids = [int(p) for p in unit.path.strip("/").split("/") if p]
    top = session.get(OrgUnit, ids[1]) if len(ids) > 1 else unit
    return top.name if top is not None else unit.name


def load_employee(session: Session, employee_id: str, as_of: date) -> LegacyEmployee | None:
    """The employee's record in force on `as_of` (a future hire: on the hire date)."""
    emp = session.get(Employee, employee_id.upper())
    if emp is None:
        return None
    day = max(as_of, emp.hire_date)
    job = queries.current(session, JobAssignment, emp.id, day)
    pay = queries.current(session, Compensation, emp.id, day)
    home = queries.current(session, EmployeeAddress, emp.id, day)
    unit = session.get(OrgUnit, job.org_unit_id) if job else None
    return LegacyEmployee(
        employee_id=emp.id,
        family_name=emp.family_name,
        given_name=emp.given_name,
        display_name=emp.display_name,
        local_name=emp.display_name if _has_cjk(emp.display_name) else None,
        birth_date=emp.birth_date,
        gender=emp.gender,
        national_id=emp.national_id,
        hire_date=emp.hire_date,
        division=_division(session, unit) if unit else None,
        org_unit=unit.name if unit else None,
        title=job.title if job else None,
        level=job.level if job else None,
        job_family=job.job_family if job else None,
        location=job.location if job else None,
        fte=job.fte if job else None,
        base_amount=pay.base_amount if pay else None,
        currency=pay.currency if pay else None,
        pay_frequency=pay.frequency if pay else None,
        address_line1=home.line1 if home else None,
        address_line2=home.line2 if home else None,
        city=home.city if home else None,
        postcode=home.postcode if home else None,
        country=home.country if home else None,
    )


def source_fields() -> dict[str, str]:
    """Attribute name -> type, for mapping authors."""
    return {
        name: str(f.annotation).replace("datetime.", "").replace("decimal.", "")
        for name, f in LegacyEmployee.model_fields.items()
    }
