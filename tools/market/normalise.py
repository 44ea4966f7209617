"""Bring a source's figure to the question's terms: a year's pay, in the question's currency, aged
to the effective date, for the question's place. Each step that changes a number is an Adjustment
listed in that order (period, currency, aging, location) with its factor and where it came from:
nothing is changed silently. A figure that cannot honestly be brought there gets `left_out` (the
blend gives it no weight): a suppressed or unconvertible one without numbers, one about another place
(no differential configured) with its numbers adjusted as far as they could be."""

from __future__ import annotations

import math
from datetime import date

from tools.market.config import MarketConfig, load_config
from tools.market.models import (
    MIN_POINTS,
    Adjustment,
    MarketError,
    NormalisedFigure,
    PayPeriod,
    Percentiles,
    SourceFigure,
)
from tools.market.rates import RateTable, check_currency, load_rates

__all__ = ["HOURS_A_YEAR", "check_currency", "normalise", "target_place"]

HOURS_A_YEAR = 2080  # 40 hours x 52 weeks, as BLS annualises hourly wages
MONTHS_A_YEAR = 12
NATIONAL = "US"  # a question without a place is about US national pay (the BLS frame)


def target_place(location: str | None, config: MarketConfig) -> str:
    return config.place(location) if location else NATIONAL


def _period(period: PayPeriod) -> Adjustment | None:
    if period is PayPeriod.HOURLY:
        return Adjustment(
            kind="period", factor=HOURS_A_YEAR, description=f"hourly -> annual: x {HOURS_A_YEAR:,} hours"
        )
    if period is PayPeriod.MONTHLY:
        return Adjustment(
            kind="period", factor=MONTHS_A_YEAR, description=f"monthly -> annual: x {MONTHS_A_YEAR} months"
        )
    return None


def _aging(reference: date, day: date, rate: float) -> Adjustment | None:
    years = (day - reference).days / 365.25
    if abs(years) < 1 / 365.25 or rate == 0:
        return None
    factor = (1 + rate) ** years
    return Adjustment(
        kind="aging",
        factor=factor,
        description=f"aged {years:+.2f} years from {reference} to {day} at {rate:.1%} a year (market.yaml)",
    )


def _location(about: str, target: str, config: MarketConfig) -> tuple[Adjustment | None, str | None]:
    """(adjustment, reason to leave the figure out) for a figure about `about` used for `target`."""
    places = [config.place(p) for p in about.split(",") if p.strip()]
    t = target.casefold()
    if any(p.casefold() == t for p in places):
        return None, None
    target_country = config.country(target)
    if target_country == target.upper() and all(config.country(p) == target_country for p in places):
        return None, None  # places inside the country asked about
    if len(places) == 1 and (d := config.differential(places[0], target)):
        return Adjustment(
            kind="location",
            factor=d.factor,
            description=f"{places[0]} -> {target}: x {d.factor:g} ({d.source})",
        ), None
    if len(places) == 1 and target_country and places[0].upper() == target_country:
        return Adjustment(
            kind="location",
            factor=1.0,
            description=f"{places[0]} figure taken for {target} as it is: market.yaml has no "
            f"{places[0]} -> {target} differential",
        ), None
    return None, (
        f"about {about}, not {target}, and market.yaml has no location differential from {about} to {target}"
    )


def normalise(
    figure: SourceFigure,
    currency: str,
    day: date,
    location: str | None = None,
    *,
    config: MarketConfig | None = None,
    rates: RateTable | None = None,
) -> NormalisedFigure:
    """`figure` as a year's pay in `currency` on `day` at `location` (None: US national).
    An unsupported question currency raises MarketError; a figure in an unsupported currency is
    kept but left out."""
    config = config or load_config()
    rates = rates or load_rates()
    target_currency = rates.rate(currency).currency

    def kept_out(reason: str, adjustments: list[Adjustment] | None = None) -> NormalisedFigure:
        return NormalisedFigure(
            original=figure,
            percentiles=Percentiles(),
            currency=target_currency,
            adjustments=adjustments or [],
            left_out=reason,
        )

    if figure.suppressed or (figure.sample_size is not None and figure.sample_size < MIN_POINTS):
        return kept_out(f"suppressed: fewer than {MIN_POINTS} data points")  # no number to adjust
    adjustments: list[Adjustment] = []
    if (step := _period(figure.pay_period)) is not None:
        adjustments.append(step)
    if figure.currency.upper() != target_currency:
        try:
            factor, how = rates.conversion(figure.currency, target_currency)
        except MarketError as e:  # no number can be stated in the question's currency
            return kept_out(f"cannot convert from {figure.currency}: {e}", adjustments)
        adjustments.append(Adjustment(kind="currency", factor=factor, description=how))
    if (step := _aging(figure.reference_date, day, config.aging.annual_rate)) is not None:
        adjustments.append(step)
    moved, left_out = _location(figure.location, target_place(location, config), config)
    if moved is not None:
        adjustments.append(moved)
    if left_out is None and all(v is None for v in figure.percentiles.model_dump().values()):
        left_out = "no percentiles" + (
            " (a mean only): shown, not blended" if figure.mean is not None else ""
        )
    total = math.prod(a.factor for a in adjustments)
    return NormalisedFigure(
        original=figure,
        percentiles=figure.percentiles.scaled(total),
        mean=figure.mean * total if figure.mean is not None else None,
        currency=target_currency,
        adjustments=adjustments,
        left_out=left_out,
    )
