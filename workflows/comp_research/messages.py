"""Typed messages of the market research workflow: input, state (the Query), stages, range edits."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tools.market.draft import Draft, RecommendedRange
    from tools.market.models import MarketQuestion
    from tools.market.tools import Published
    from tools.store.models import Role
    from workflows.approvals import ApprovalChain
    from workflows.record_change.messages import Event

KIND = "comp_research"
# What the comp analyst may change before approving: the recommended range.
RANGE_EDITABLE = ("minimum", "midpoint", "maximum")


def workflow_id_for(question: MarketQuestion, soc_code: str | None, day: str) -> str:
    """The same question asked again the same day is the same research (not a second request)."""
    key = "|".join(
        [
            question.title.strip().lower(),
            question.level or "",
            (question.location or "").lower(),
            question.currency,
            soc_code or "",
            day,
        ]
    )
    return f"comp-research-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


class Stage(StrEnum):
    RESEARCHING = "researching"
    AWAITING_APPROVAL = "awaiting_approval"  # a comp analyst approves, rejects or edits the range
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    NEEDS_CHOICE = "needs_choice"  # the title matched no occupation with confidence
    NO_DATA = "no_data"  # no source had enough data: nothing to approve
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def closed(self) -> bool:
        return self not in {Stage.RESEARCHING, Stage.AWAITING_APPROVAL, Stage.PUBLISHING}


class CompResearchRequest(BaseModel):
    request_id: str
    question: MarketQuestion
    soc_code: str | None = None
    requested_by: str
    requester_roles: frozenset[Role]


class CompResearchState(BaseModel):
    request_id: str
    stage: Stage
    requested_by: str
    requested_at: datetime
    question: MarketQuestion
    draft: Draft | None = None
    approval: ApprovalChain | None = None
    published_range: RecommendedRange | None = None
    published: Published | None = None
    cancelled_by: str | None = None
    problems: list[str] = []
    history: list[Event] = []


def range_with_edits(drafted: RecommendedRange, edits: dict[str, str]) -> RecommendedRange:
    """The analyst's range: numbers (commas allowed), minimum <= midpoint <= maximum (ValueError)."""
    data = drafted.model_dump()
    for k, v in edits.items():
        if k not in RANGE_EDITABLE:
            raise ValueError(f"{k} cannot be edited; the range's {', '.join(RANGE_EDITABLE)} can")
        try:
            data[k] = float(v.replace(",", "").strip())
        except ValueError:
            raise ValueError(f"{k}: {v!r} is not a number") from None
    if not 0 < data["minimum"] <= data["midpoint"] <= data["maximum"]:
        raise ValueError(
            f"the range must be positive with minimum <= midpoint <= maximum "
            f"(got {data['minimum']:,.0f} / {data['midpoint']:,.0f} / {data['maximum']:,.0f})"
        )
    if edits:
        data["basis"] = f"edited by the approver (drafted: {drafted.basis})"
    return RecommendedRange.model_validate(data)
