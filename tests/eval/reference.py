"""A second, deliberately plain implementation of the catalogue's definitions for the evaluation:
Python over the store's rows, no SQL, no compiler. Where both exist, the answers must agree."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.store.models import Employee, JobAssignment, LearningRecord

SUPPORTED_METRICS = {
    "headcount",
    "hires",
    "leavers",
    "voluntary_leavers",
    "involuntary_leavers",
    "training_hours",
    "enrolments",
    "completions",
}
SUPPORTED_DIMS = {"location", "job_family", "level"}


def _job_on(jobs: list[JobAssignment], day: date) -> JobAssignment | None:
    for j in jobs:
        if j.valid_from <= day and (j.valid_to is None or j.valid_to > day):
            return j
    return None


def values(
    session: Session, metric: str, start: date, end: date, dims: list[str], filters: dict[str, list[str]]
) -> dict[tuple, float]:
    """metric over [start, end] grouped by dims -> {group key: value}; zero groups left out."""
    jobs: dict[str, list[JobAssignment]] = defaultdict(list)
    for j in session.scalars(select(JobAssignment)):
        jobs[j.employee_id].append(j)
    out: Counter = Counter()

    def add(job: JobAssignment | None, amount: float) -> None:
        if job is None or any(getattr(job, d) not in v for d, v in filters.items()):
            return
        out[tuple(getattr(job, d) for d in dims)] += amount

    employees = session.scalars(select(Employee)).all()
    if metric == "headcount":
        for e in employees:
            add(_job_on(jobs[e.id], end), 1)
    elif metric == "hires":
        for e in employees:
            if start <= e.hire_date <= end:
                add(_job_on(jobs[e.id], e.hire_date), 1)
    elif metric.endswith("leavers"):
        kind = {"voluntary_leavers": "voluntary", "involuntary_leavers": "involuntary"}.get(metric)
        for e in employees:
            t = e.termination_date
            if (
                t
                and start <= t <= end
                and e.leaver_reason != "offer_withdrawn"
                and kind in (None, e.leaver_type)
            ):
                add(next((j for j in jobs[e.id] if j.valid_to == t), None), 1)
    else:
        withdrawn = {"withdrawn"}
        for rec in session.scalars(select(LearningRecord)):
            if rec.status in withdrawn:
                continue
            day = rec.completed_on if metric in ("training_hours", "completions") else rec.enrolled_on
            if day is None or not start <= day <= end:
                continue
            add(_job_on(jobs[rec.employee_id], day), float(rec.hours) if metric == "training_hours" else 1)
    return {k: float(v) for k, v in out.items() if v}
