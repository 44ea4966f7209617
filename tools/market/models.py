"""Typed models at every boundary of market research: the question, a job match, what a source
returns, normalised and blended figures. Amounts are always tagged with currency and pay period;
every figure carries where it came from."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

MIN_POINTS = 5  # a cut with fewer data points (or people) is suppressed, never shown
PERCENTILES = ("p10", "p25", "p50", "p75", "p90")


class PayPeriod(StrEnum):
    HOURLY = "hourly"
    MONTHLY = "monthly"
    ANNUAL = "annual"


class Level(StrEnum):
    """Seniority as sources name it; internal levels (L1-L9) map onto these (see matching)."""

    ENTRY = "entry"
    MID = "mid"
    SENIOR = "senior"
    EXECUTIVE = "executive"


class MarketQuestion(BaseModel):
    """What the analyst asks: "market for a Senior Data Scientist in Shanghai, in CNY"."""

    title: str = Field(min_length=1, max_length=200, description="Internal job title, English or Chinese")
    level: str | None = Field(None, description="Internal level (L1-L9) or entry/mid/senior/executive")
    location: str | None = Field(None, description="City or ISO country code; None: national (US) data as is")
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency of the answer")
    effective_date: date | None = Field(None, description="Age figures to this day; None: today")


class Candidate(BaseModel):
    soc_code: str  # e.g. 15-2051
    soc_title: str  # e.g. Data Scientists
    confidence: float = Field(ge=0, le=1)
    rationale: str  # why this occupation: which words matched, synonyms, translation


class Match(BaseModel):
    """An internal title matched to a standard occupation and to each source's own categories."""

    title: str
    soc_code: str
    soc_title: str
    confidence: float = Field(ge=0, le=1)
    rationale: str
    level: Level | None = None
    source_categories: dict[str, list[str]] = Field(
        {}, description="source name -> that source's categories used (e.g. ai-jobs job titles)"
    )
    candidates: list[Candidate] = Field([], description="The nearest occupations, best first")

    @property
    def needs_choice(self) -> bool:
        """Below this confidence the analyst chooses from the candidates (never guessed)."""
        return self.confidence < MATCH_THRESHOLD


MATCH_THRESHOLD = 0.75


class Percentiles(BaseModel):
    p10: float | None = None
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    p90: float | None = None

    def scaled(self, factor: float) -> Percentiles:
        return Percentiles(
            **{k: (v * factor if v is not None else None) for k, v in self.model_dump().items()}
        )


class Citation(BaseModel):
    publisher: str  # "U.S. Bureau of Labor Statistics"
    title: str  # "Occupational Employment and Wage Statistics, May 2024"
    url: str | None = None
    licence: str | None = None
    detail: str | None = None  # the row or cut used: "OCC_CODE 15-2051, national, cross-industry"


class Adjustment(BaseModel):
    """Anything done to a source's figure, always shown next to it."""

    kind: str  # period | currency | aging | location
    description: str  # "USD -> CNY at 7.1 (rates table of 2026-11-01)"
    factor: float


class SourceFigure(BaseModel):
    """One source's answer for one cut, exactly as the source states it."""

    source: str  # registry name: bls_oews | aijobs | internal | survey:<name>
    category: str  # the source's own category: an SOC title, an ai-jobs job title, an internal title
    location: str  # where the figure is about ("US", "GB", "Shanghai")
    percentiles: Percentiles
    sample_size: int | None = None  # data points (ai-jobs rows, people); employment for BLS
    reference_date: date
    currency: str
    pay_period: PayPeriod
    citation: Citation
    notes: list[str] = []  # top-coded values, self-reported data, ...
    suppressed: bool = False  # fewer than MIN_POINTS data points: percentiles withheld
    mean: float | None = None  # the source's mean, where it publishes one (BLS A_MEAN, a survey's mean)


class NormalisedFigure(BaseModel):
    """A source figure brought to the question's currency, annual period, effective date and place."""

    original: SourceFigure
    percentiles: Percentiles  # in the question's currency, per year
    currency: str
    adjustments: list[Adjustment] = []
    weight: float = 0.0  # in the blend (0 when suppressed or left out)
    mean: float | None = None  # the source's mean, adjusted like the percentiles
    left_out: str | None = None  # why the blend gives this figure no weight (suppressed, another place, ...)


class Blend(BaseModel):
    percentiles: Percentiles
    currency: str
    weights: dict[str, float]  # source -> weight (sums to 1 over the sources used)
    band: tuple[float, float] | None = None  # confidence band around the blended median
    sources_used: int
    notes: list[str] = []


class MarketError(ValueError):
    """Bad input for market research: says what is wrong and how to fix it."""
