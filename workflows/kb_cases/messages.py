"""Typed messages of the case-reminder workflow."""

from __future__ import annotations

from pydantic import BaseModel

# One schedule per namespace: it starts CaseRemindersWorkflow every hour.
SCHEDULE_ID = "kb-case-reminders"


class Reminded(BaseModel):
    reminded: list[str] = []  # cases brought up to HR ops again
    escalated: list[str] = []  # cases sent on to the admins
