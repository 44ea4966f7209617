"""Typed messages of the learning-digest workflow: its input (the schedule's argument), the
activity's job and what was sent."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tools.analytics.digest import Language

SCHEDULE_PREFIX = "learning-digest-"


def schedule_id_for(username: str) -> str:
    """A subscription is this schedule; the workflows it starts take its id plus their start time."""
    return f"{SCHEDULE_PREFIX}{username}"


class LearningDigestRequest(BaseModel):
    username: str
    language: Language = "en"
    month: date | None = Field(
        None, description="Any day of the month to digest; None: the month before the start"
    )

    @field_validator("month")
    @classmethod
    def _first_day(cls, v: date | None) -> date | None:
        return v.replace(day=1) if v else None


class DigestJob(BaseModel):
    """The activity's input: the month is decided by the workflow, so a replay digests the same one."""

    username: str
    language: Language
    month: date


class DigestSent(BaseModel):
    username: str
    month: date
    subject: str = ""
    queued: int = 0  # 0: this subscriber's digest of this month was queued before (or nobody to send to)
    refused: bool = False  # the digest says why it has no figures
    skipped: str | None = None  # nothing built: the subscriber is unknown or has left
