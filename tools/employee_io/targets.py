"""The fields an import can fill, each tied to the store column it lands in.

Names are what a mapping's `fields:` uses and what an export writes as headers, so an exported
workbook imports again without a mapping. Lengths and classifications come from the store
columns themselves, so they cannot drift from the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String

from tools.store.classification import Classification
from tools.store.models import Compensation, Employee, EmployeeAddress, EmployeeFact, JobAssignment, OrgUnit


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    NUMBER = "number"


class Group(StrEnum):
    PERSON = "person"  # employees table
    JOB = "job"  # first job assignment
    PAY = "pay"  # first compensation row
    ADDRESS = "address"  # first home address row
    FACT = "fact"  # employee_facts, as of the import's date (a mapping's `facts:`)


@dataclass(frozen=True)
class Target:
    name: str
    group: Group
    column: Column[Any]
    kind: Kind = Kind.TEXT
    help: str = ""

    @property
    def attr(self) -> str:
        return self.column.key

    @property
    def max_length(self) -> int | None:
        return self.column.type.length if isinstance(self.column.type, String) else None

    @property
    def classification(self) -> Classification:
        return self.column.info["classification"]


def _t(name: str, group: Group, column: Any, kind: Kind = Kind.TEXT, help: str = "") -> Target:
    return Target(name, group, column.property.columns[0], kind, help)


E, J, C, A = Employee, JobAssignment, Compensation, EmployeeAddress
P, JOB, PAY, ADDR = Group.PERSON, Group.JOB, Group.PAY, Group.ADDRESS

TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        _t("employee_id", P, E.id, help="unique id, e.g. E100042 (max 20 characters)"),
        _t("given_name", P, E.given_name),
        _t("family_name", P, E.family_name),
        _t("display_name", P, E.display_name, help="default: given name + family name"),
        _t("work_email", P, E.work_email),
        _t("personal_email", P, E.personal_email),
        _t("phone", P, E.phone),
        _t("birth_date", P, E.birth_date, Kind.DATE),
        _t("gender", P, E.gender),
        _t("national_id", P, E.national_id),
        _t("hire_date", P, E.hire_date, Kind.DATE, "first day of employment; records start on it"),
        _t(
            "termination_date",
            P,
            E.termination_date,
            Kind.DATE,
            "first day no longer employed; records end on it",
        ),
        _t("status", P, E.status, help="active | terminated (default: from termination_date)"),
        _t("leaver_type", P, E.leaver_type, help="voluntary | involuntary"),
        _t("leaver_reason", P, E.leaver_reason),
        _t("title", JOB, J.title),
        _t("job_family", JOB, J.job_family),
        _t("level", JOB, J.level),
        _t("org_unit_code", JOB, OrgUnit.code, help="org unit matched by code"),
        _t("org_unit_name", JOB, OrgUnit.name, help="org unit matched by name"),
        _t("manager_id", JOB, J.manager_id, help="employee id of the manager (in the store or the file)"),
        _t("location", JOB, J.location),
        _t("fte", JOB, J.fte, Kind.NUMBER, "0 < fte <= 1 (default 1); 80% is read as 0.8"),
        _t("base_amount", PAY, C.base_amount, Kind.NUMBER, "base pay per pay_frequency, > 0"),
        _t("currency", PAY, C.currency, help="ISO 4217, e.g. CNY, USD, EUR"),
        _t("pay_frequency", PAY, C.frequency, help="annual | monthly | hourly"),
        _t("address_line1", ADDR, A.line1),
        _t("address_line2", ADDR, A.line2),
        _t("address_city", ADDR, A.city),
        _t("address_region", ADDR, A.region),
        _t("address_postcode", ADDR, A.postcode),
        _t("address_country", ADDR, A.country, help="ISO 3166-1 alpha-2, e.g. CN, SG, GB, US"),
    ]
}


def fact_target(name: str) -> Target:
    """A mapping's fact: a number kept in employee_facts."""
    return Target(name, Group.FACT, EmployeeFact.__table__.c.value, Kind.NUMBER, "a number")


# Every employee needs these (the store columns are NOT NULL). Names and org unit have alternatives,
# checked separately in the mapping.
ALWAYS_REQUIRED = ("employee_id", "hire_date", "title", "job_family", "level", "location")
