"""What the company pays the matched job against the market: for the people whose job in force on
the day matches (the same cut as the internal source) and who work at the question's place, their
annual base pay in the market's currency, the compa-ratio against the market median (blend P50), how
many sit in each band of the market range, and a median gender pay gap when both women and men
number at least MIN_POINTS. Fewer than MIN_POINTS people: nothing but the count is shown."""

from __future__ import annotations

import statistics
from datetime import date

from pydantic import BaseModel

from tools.market.config import MarketConfig, load_config
from tools.market.models import MIN_POINTS, PERCENTILES, Blend, MarketQuestion, Match
from tools.market.normalise import target_place
from tools.market.rates import RateTable, load_rates
from tools.market.sources import SourceContext
from tools.market.sources.internal import JobCut, Paid, people_in_job
from tools.market.stats import percentiles

GENDERS = {
    "female": ("female", "f", "woman", "women", "女"),
    "male": ("male", "m", "man", "men", "男"),
}
_GENDER = {word: g for g, words in GENDERS.items() for word in words}


class GenderGap(BaseModel):
    women: int
    men: int
    median_women: float | None = None  # both only when each group has MIN_POINTS people
    median_men: float | None = None
    gap_percent: float | None = None  # (median men - median women) / median men x 100; > 0: men higher
    threshold_percent: float
    flagged: bool = False


class InternalComparison(BaseModel):
    day: date
    place: str
    currency: str  # of every amount here (the market's)
    job: str  # which jobs counted
    people: int
    suppressed: bool  # fewer than MIN_POINTS people: no pay figure shown
    market_median: float | None = None
    median_pay: float | None = None
    compa_ratio: float | None = None  # median pay / market median (= the median compa-ratio)
    compa_ratio_p25: float | None = None
    compa_ratio_p75: float | None = None
    positions: dict[str, int] = {}  # "below P10", "P10-P25", ..., "above P90": people in each band
    gender: GenderGap | None = None
    conversions: list[str] = []  # how pay in other currencies was converted (with the rates' dates)
    notes: list[str] = []

    def lines(self) -> list[str]:
        """The comparison in plain sentences (reports, the CLI)."""
        head = f"{self.people} people in jobs with {self.job} at {self.place} on {self.day}"
        if self.suppressed:
            return [f"{head}: fewer than {MIN_POINTS}, so no pay figures are shown", *self.notes]
        out = [f"{head}; amounts in {self.currency} a year"]
        if self.median_pay is not None and self.market_median is not None and self.compa_ratio is not None:
            out.append(
                f"median base pay {self.median_pay:,.0f} against the market median {self.market_median:,.0f}: "
                f"compa-ratio {self.compa_ratio:.2f} (P25 {self.compa_ratio_p25:.2f}, P75 {self.compa_ratio_p75:.2f})"
            )
        if self.positions:
            out.append(
                "position in the market range: " + ", ".join(f"{k}: {v}" for k, v in self.positions.items())
            )
        g = self.gender
        if g is not None and g.gap_percent is not None:
            verdict = "FLAGGED, above" if g.flagged else "within"
            out.append(
                f"median gender pay gap {g.gap_percent:+.1f}% (women {g.women}, men {g.men}; "
                f"positive: men paid more), {verdict} the {g.threshold_percent:g}% threshold"
            )
        elif g is not None:
            out.append(
                f"gender pay gap not shown: women {g.women}, men {g.men} (each needs at least {MIN_POINTS})"
            )
        return out + self.conversions + self.notes


def _at_place(p: Paid, place: str, config: MarketConfig) -> bool:
    where = config.place(p.location)
    return where.casefold() == place.casefold() or config.country(where) == place.upper()


def _positions(pays: list[float], market: Blend) -> tuple[dict[str, int], list[str]]:
    bounds = [(p.upper(), getattr(market.percentiles, p)) for p in PERCENTILES]
    known = [(name, v) for name, v in bounds if v is not None]
    missing = [name for name, v in bounds if v is None]
    if not known:
        return {}, []
    labels = [f"below {known[0][0]}"]
    labels += [f"{a}-{b}" for (a, _), (b, _) in zip(known, known[1:], strict=False)]
    labels.append(f"above {known[-1][0]}")
    counts = dict.fromkeys(labels, 0)
    for pay in pays:
        band = sum(1 for _, v in known if pay >= v)  # at or above a boundary: in the band above it
        counts[labels[band]] += 1
    notes = [f"market {', '.join(missing)} not available: those bands are merged"] if missing else []
    return counts, notes


def _gender_gap(people: list[tuple[Paid, float]], config: MarketConfig) -> GenderGap:
    by: dict[str, list[float]] = {"female": [], "male": []}
    for p, pay in people:
        g = _GENDER.get((p.gender or "").strip().casefold())
        if g:
            by[g].append(pay)
    gap = GenderGap(
        women=len(by["female"]),
        men=len(by["male"]),
        threshold_percent=config.pay_equity.gap_threshold_percent,
    )
    if gap.women >= MIN_POINTS and gap.men >= MIN_POINTS:
        gap.median_women, gap.median_men = statistics.median(by["female"]), statistics.median(by["male"])
        gap.gap_percent = (gap.median_men - gap.median_women) / gap.median_men * 100
        gap.flagged = abs(gap.gap_percent) > gap.threshold_percent
    return gap


def compare(
    ctx: SourceContext,
    match: Match,
    market: Blend,
    question: MarketQuestion,
    *,
    config: MarketConfig | None = None,
    rates: RateTable | None = None,
) -> InternalComparison:
    config = config or load_config()
    rates = rates or load_rates()
    day = question.effective_date or ctx.today
    cut = JobCut.of(match, question)
    place = target_place(question.location, config)
    people = [p for p in people_in_job(ctx.db_url, day, cut) if _at_place(p, place, config)]
    result = InternalComparison(
        day=day,
        place=place,
        currency=market.currency,
        job=cut.describe(),
        people=len(people),
        suppressed=len(people) < MIN_POINTS,
        market_median=market.percentiles.p50,
    )
    if result.suppressed:
        return result
    factors: dict[str, float] = {}
    for cur in sorted({p.currency for p in people} - {market.currency}):
        factors[cur], how = rates.conversion(cur, market.currency)
        result.conversions.append(f"pay in {how}")
    converted = [(p, p.annual * factors.get(p.currency, 1.0)) for p in people]
    pays = [pay for _, pay in converted]
    result.median_pay = statistics.median(pays)
    result.notes.append("base pay as recorded, annualised (monthly x 12, hourly x 2080); not scaled by FTE")
    if market.percentiles.p50:
        m = market.percentiles.p50
        spread = percentiles(pays)
        result.compa_ratio = result.median_pay / m
        result.compa_ratio_p25 = spread.p25 / m if spread.p25 is not None else None
        result.compa_ratio_p75 = spread.p75 / m if spread.p75 is not None else None
        result.positions, notes = _positions(pays, market)
        result.notes += notes
    else:
        result.notes.append("the market has no median: no compa-ratio or position in the range")
    result.gender = _gender_gap(converted, config)
    result.notes.append(
        "the gender gap is the raw difference of medians within this job and place, not a pay-equity finding"
    )
    return result
