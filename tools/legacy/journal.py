"""The submit journal: which creates were sent to a legacy system and are not yet proven.

A create is "in doubt" from the moment its final submit is clicked until the record is found and
verified (or the system refuses it). The journal lives in the HR store, so a retry on another
worker, after a crash, still knows; the engine then waits for the search to show the record
instead of typing it a second time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from tools.store.db import session_scope
from tools.store.models import LegacySubmission


def in_doubt_since(url: str, system: str, form: str, employee_id: str) -> datetime | None:
    """When the oldest unsettled create of this record was sent, if there is one."""
    with session_scope(url) as s:
        return s.scalars(
            select(LegacySubmission.submitted_at)
            .where(
                LegacySubmission.system == system,
                LegacySubmission.form == form,
                LegacySubmission.employee_id == employee_id,
                LegacySubmission.settled_at.is_(None),
            )
            .order_by(LegacySubmission.submitted_at)
            .limit(1)
        ).first()


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


def settle(url: str, system: str, form: str, employee_id: str, outcome: str) -> None:
    """Close every open create of this record: its outcome is known now."""
    with session_scope(url, write=True) as s:
        s.execute(
            update(LegacySubmission)
            .where(
                LegacySubmission.system == system,
                LegacySubmission.form == form,
                LegacySubmission.employee_id == employee_id,
                LegacySubmission.settled_at.is_(None),
            )
            .values(settled_at=datetime.now(UTC), outcome=outcome)
        )
