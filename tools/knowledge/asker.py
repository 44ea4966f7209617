"""Who is asking, as the policy search needs it: the country, location and employee group of the
asker's job on the day asked, read from their own record only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.knowledge.search import Asker
from tools.market.config import load_config
from tools.store import queries
from tools.store.identity import Principal
from tools.store.models import JobAssignment, OrgUnit


def employee_group(session: Session, employee_id: str, on: date) -> str:
    """`manager` for someone who heads a unit or has direct reports on that day, else `staff`."""
    heads = session.scalar(select(OrgUnit.id).where(OrgUnit.head_employee_id == employee_id).limit(1))
    return "manager" if heads is not None or queries.has_reports(session, employee_id, on) else "staff"


def asker_for(session: Session, who: Principal, on: date) -> Asker:
    """The asker's scope; a user without an employee record (an HR or admin account) is not
    restricted by location or group."""
    if who.employee_id is None:
        return Asker()
    job = queries.current(session, JobAssignment, who.employee_id, on)
    if job is None:
        return Asker(group=employee_group(session, who.employee_id, on))
    return Asker(
        country=load_config().country(job.location),
        location=job.location,
        group=employee_group(session, who.employee_id, on),
    )
