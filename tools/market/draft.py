"""What market research hands the analyst: the draft and its recommended range. Kept apart from
the research graph, so reading or publishing a draft does not load langgraph."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from tools.market.internal_compare import InternalComparison
from tools.market.models import Blend, Candidate, MarketQuestion, Match, NormalisedFigure


class RecommendedRange(BaseModel):
    minimum: float
    midpoint: float
    maximum: float
    currency: str
    basis: str  # how it was derived, in words


class Draft(BaseModel):
    """What research gives the analyst to approve (or a request to choose the occupation)."""

    question: MarketQuestion
    match: Match
    needs_choice: bool = False
    candidates: list[Candidate] = []
    figures: list[NormalisedFigure] = []
    source_errors: dict[str, str] = {}  # a source that failed (its file unreadable, say): said, not fatal
    blend: Blend | None = None
    internal: InternalComparison | None = None
    critique: list[str] = []
    recommended: RecommendedRange | None = None
    widened: bool = False
    summary: str = ""


class Approval(BaseModel):
    """Who approved what: the range published, and the draft's range when it was edited."""

    request_id: str
    approved_by: str
    approved_at: datetime
    published: RecommendedRange
    drafted: RecommendedRange | None = None  # set when the analyst edited the range
    reason: str | None = None
