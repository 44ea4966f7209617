"""Typed shapes of the compliance review queue: sampling rules, review items, decisions, eval cases."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

# A model-written output: the agent's typed output as a JSON object, or plain text.
Output = dict[str, Any] | str

LABEL_PREFIX = "RV-"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    CORRECTED = "corrected"


class Verdict(StrEnum):
    APPROVE = "approve"
    CORRECT = "correct"


def _as_list(v: Any) -> Any:
    # `topic: onboarding_plan` reads as well as `topic: [onboarding_plan, change_summary]`.
    return [v] if isinstance(v, str) else v


class SamplingRule(BaseModel):
    """Outputs of these topics and risks are reviewed at `rate` (0: never, 1: every one).
    An empty topic or risk list matches any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    topic: list[str] = []
    risk: list[Risk] = []
    rate: float = Field(ge=0.0, le=1.0)

    @field_validator("topic", "risk", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return _as_list(v)

    def matches(self, topic: str, risk: Risk) -> bool:
        return (not self.topic or topic in self.topic) and (not self.risk or risk in self.risk)


class ReviewRules(BaseModel):
    """The rules file: each topic's risk, and the rules tried from the top (the first match decides)."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    default_risk: Risk = Risk.MEDIUM
    risk: dict[str, Risk] = {}
    rules: list[SamplingRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> ReviewRules:
        names = [r.name for r in self.rules]
        if twice := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"rule names must be unique; used twice: {', '.join(twice)}")
        return self


class Sampling(BaseModel):
    """Whether one output is reviewed, and which rule said so."""

    topic: str
    risk: Risk
    rule: str | None  # None: no rule matched (never reviewed)
    rate: float
    draw: float  # the output's fixed position in [0, 1): reviewed when draw < rate
    sampled: bool


class ReviewItem(BaseModel):
    """A sampled model output waiting for (or having had) a person's review."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    risk: Risk
    rule: str
    source: str
    agent: str
    request_id: str | None
    workflow_id: str | None
    requested_by: str | None
    subject_employee_id: str | None
    endpoint: str | None
    prompt: str
    output: Output
    created_at: datetime
    status: ReviewStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    correction: Output | None = None

    @field_validator("created_at", "decided_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        # SQLite hands timestamps back without a zone; they were written as UTC.
        return v.replace(tzinfo=UTC) if v is not None and v.tzinfo is None else v

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return f"{LABEL_PREFIX}{self.id}"


class Decision(BaseModel):
    """A reviewer's verdict: approve as written, or correct with the output it should have been
    (a JSON object for typed outputs: the fields to change; text for text) and why."""

    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    reason: str | None = Field(None, max_length=1000)
    correction: Output | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Decision:
        if self.verdict is Verdict.CORRECT:
            if self.correction is None or self.correction in ({}, ""):
                raise ValueError(
                    "a correction needs the corrected output (the fields to change, or the text)"
                )
            if not (self.reason or "").strip():
                raise ValueError("a correction needs a reason: say what was wrong")
        elif self.correction is not None:
            raise ValueError("an approval takes no correction; use verdict 'correct' to change the output")
        return self


class EvalCase(BaseModel):
    """A reviewer's correction kept as an evaluation case: this prompt should give `expected`."""

    model_config = ConfigDict(extra="forbid")

    id: str  # the review item's label, e.g. RV-12
    agent: str
    topic: str
    prompt: str
    expected: Output
    original: Output  # what the model wrote
    reason: str
    endpoint: str | None = None  # where the prompt was sent (its redaction was for this endpoint)
    corrected_by: str
    corrected_at: datetime


class CaseOutcome(StrEnum):
    MATCHED = "matched"
    DIFFERS = "differs"
    SKIPPED = "skipped"  # not re-run (no replay for the agent, or the prompt may not go to that model)
    ERROR = "error"


class CaseResult(BaseModel):
    id: str
    agent: str
    outcome: CaseOutcome
    differences: list[str] = []  # the fields (or "text") whose value differs from the correction
    detail: str | None = None


class EvalReport(BaseModel):
    model: str
    results: list[CaseResult]

    def count(self, outcome: CaseOutcome) -> int:
        return sum(r.outcome is outcome for r in self.results)
