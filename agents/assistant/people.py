"""Who a chat message means: "Wang Fang", "王芳", "wang fang" or "E1003" to one employee record.

Names are matched exactly (case and spacing aside) against the id, the display name and the
given/family name in either order; people who left more than a year ago are not offered. Two
people with the same name are never guessed between: the assistant asks which, by id and unit."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tools.store.models import Employee, JobAssignment, OrgUnit

ID = re.compile(r"^[A-Za-z]{0,4}-?\d{3,8}$")
RECENT_LEAVERS = timedelta(days=365)


class Person(BaseModel):
    employee_id: str
    name: str
    unit: str | None = None  # org unit code of the job in force (or the last one)
    status: str


class Found(BaseModel):
    """Exactly one person, or the reason there is not (none, or several to choose from)."""

    person: Person | None = None
    choices: list[Person] = []
    problem: str | None = None


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip()).lower()


def find(session: Session, text: str, today: date) -> Found:
    said = _key(text)
    if not said:
        return Found(problem="no employee named")
    first_last = func.lower(Employee.given_name + " " + Employee.family_name)
    last_first = func.lower(Employee.family_name + " " + Employee.given_name)
    last_first_tight = func.lower(Employee.family_name + Employee.given_name)
    conditions = [func.lower(Employee.display_name) == said, first_last == said, last_first == said]
    conditions.append(last_first_tight == said.replace(" ", ""))
    if ID.match(text.strip()):
        conditions.append(func.upper(Employee.id) == text.strip().upper())
    rows = session.scalars(
        select(Employee)
        .where(or_(*conditions))
        .where(or_(Employee.termination_date.is_(None), Employee.termination_date >= today - RECENT_LEAVERS))
        .order_by(Employee.id)
        .limit(10)
    ).all()
    people = [_person(session, e, today) for e in rows]
    if not people:
        return Found(problem=f'no employee called "{text.strip()}" (try their employee id, e.g. E1003)')
    if len(people) > 1:
        return Found(choices=people, problem=f'{len(people)} people are called "{text.strip()}"')
    return Found(person=people[0])


def _person(session: Session, e: Employee, today: date) -> Person:
    unit = session.scalar(
        select(OrgUnit.code)
        .join(JobAssignment, JobAssignment.org_unit_id == OrgUnit.id)
        .where(JobAssignment.employee_id == e.id, JobAssignment.valid_from <= today)
        .order_by(JobAssignment.valid_from.desc())
        .limit(1)
    )
    return Person(employee_id=e.id, name=e.display_name, unit=unit, status=e.status)
