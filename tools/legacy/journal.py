"""The submit journal: which creates were sent to a legacy system and are not yet proven.

A create is "in doubt" from the moment its final submit is clicked until the record is verified
(or the system refuses that submit). Once the system's answer named the new record's reference,
the journal keeps it: from then on no push types the record again, whatever the search says. The
journal lives in the HR store, so a retry on another worker, after a crash, still knows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import func, select, update

from tools.store.db import session_scope
from tools.store.models import LegacySubmission


class OpenSubmit(BaseModel):
    """What the journal knows about a record's unsettled creates."""

    last_sent: float  # epoch seconds of the newest unsettled final submit
    reference: str | None = None  # set once an answer named the saved record


def _open(system: str, form: str, employee_id: str):  # noqa: ANN202 - a SQLAlchemy clause list
    return (
        LegacySubmission.system == system,
        LegacySubmission.form == form,
        LegacySubmission.employee_id == employee_id,
        LegacySubmission.settled_at.is_(None),
    )


def _epoch(at: datetime) -> float:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()  # SQLite returns naive UTC


def open_submit(url: str, system: str, form: str, employee_id: str) -> OpenSubmit | None:
    with session_scope(url) as s:
        last, reference = s.execute(
            select(func.max(LegacySubmission.submitted_at), func.max(LegacySubmission.reference)).where(
                *_open(system, form, employee_id)
            )
        ).one()
    return OpenSubmit(last_sent=_epoch(last), reference=reference) if last else None


def submitting(url: str, system: str, form: str, employee_id: str, workflow_id: str | None) -> None:
    with session_scope(url, write=True) as s:
        s.add(
            LegacySubmission(
                system=system,
                form=form,
                employee_id=employee_id,
                workflow_id=workflow_id,
                submitted_at=datetime.now(UTC),
            )
        )


def saved(url: str, system: str, form: str, employee_id: str, reference: str) -> None:
    """The system's answer named the record: it exists, whatever a search may say later."""
    with session_scope(url, write=True) as s:
        s.execute(
            update(LegacySubmission).where(*_open(system, form, employee_id)).values(reference=reference)
        )


def settle(url: str, system: str, form: str, employee_id: str, outcome: str) -> None:
    """Close every open create of this record: its outcome is known now."""
    with session_scope(url, write=True) as s:
        s.execute(
            update(LegacySubmission)
            .where(*_open(system, form, employee_id))
            .values(settled_at=datetime.now(UTC), outcome=outcome)
        )
