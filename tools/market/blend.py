"""One market view from several sources' normalised figures.

Weights: each source's base weight (market.yaml `weights`) is shared equally among its usable
figures, scaled by data quality, min(1, sqrt(n / full_sample)) for a figure of n data points (a
figure without a sample size counts `unknown_sample`), then normalised to sum to 1. A figure weighs
0 when it is suppressed (fewer than MIN_POINTS data points), left out by normalisation (another
place, an unconvertible currency), has no median, or its source's base weight is 0.

Each blended percentile is the weighted mean of the figures that state it (weights renormalised over
them, said in the notes); a percentile that would fall below the one before it is withheld. The
confidence band is the blended median +/- the weighted standard deviation of the used figures'
medians around it (none with a single figure)."""

from __future__ import annotations

import math
from collections import Counter

from tools.market.config import MarketConfig, load_config
from tools.market.models import MIN_POINTS, PERCENTILES, Blend, NormalisedFigure, Percentiles


def quality(f: NormalisedFigure, config: MarketConfig) -> float:
    n = f.original.sample_size
    if n is None:
        return config.quality.unknown_sample
    return min(1.0, math.sqrt(n / config.quality.full_sample))


def label(f: NormalisedFigure) -> str:
    o = f.original
    return f"{o.source} ({o.location})"


def _keys(figures: list[NormalisedFigure]) -> list[str]:
    """A name per figure for the weights: the source, with the place (and a number) when repeated."""
    per_source = Counter(f.original.source for f in figures)
    keys = [label(f) if per_source[f.original.source] > 1 else f.original.source for f in figures]
    seen: Counter[str] = Counter()
    out = []
    for k in keys:
        seen[k] += 1
        out.append(k if keys.count(k) == 1 else f"{k} #{seen[k]}")
    return out


def _why_not(f: NormalisedFigure, currency: str, config: MarketConfig) -> str | None:
    if f.original.suppressed or (f.original.sample_size is not None and f.original.sample_size < MIN_POINTS):
        return f"suppressed: fewer than {MIN_POINTS} data points"
    if f.left_out:
        return f.left_out
    if f.currency != currency:
        return f"in {f.currency}, not {currency}"
    if f.percentiles.p50 is None:
        return "no median (P50)"
    if config.weight(f.original.source) == 0:
        return "its weight in market.yaml is 0"
    return None


def blend(figures: list[NormalisedFigure], currency: str, *, config: MarketConfig | None = None) -> Blend:
    """The blended market; sets each figure's `weight` (0 for those not used)."""
    config = config or load_config()
    notes: list[str] = []
    used: list[NormalisedFigure] = []
    keys = _keys(figures)
    for key, f in zip(keys, figures, strict=True):
        f.weight = 0.0
        reason = _why_not(f, currency, config)
        if reason:
            notes.append(f"{key}: not blended ({reason})")
        else:
            used.append(f)
    shares = Counter(f.original.source for f in used)
    raw = [config.weight(f.original.source) / shares[f.original.source] * quality(f, config) for f in used]
    total = sum(raw)
    for f, r in zip(used, raw, strict=True):
        f.weight = r / total if total else 0.0
    used = [f for f in used if f.weight > 0]
    weights = {key: f.weight for key, f in zip(keys, figures, strict=True)}
    if not used:
        notes.append("no figure could be blended: no market view")
        return Blend(
            percentiles=Percentiles(), currency=currency, weights=weights, sources_used=0, notes=notes
        )
    values: dict[str, float | None] = {}
    for p in PERCENTILES:
        stated = [
            (f.weight, getattr(f.percentiles, p)) for f in used if getattr(f.percentiles, p) is not None
        ]
        values[p] = sum(w * v for w, v in stated) / sum(w for w, _ in stated) if stated else None
        if stated and len(stated) < len(used):
            notes.append(
                f"{p.upper()} from {len(stated)} of {len(used)} figures (the others do not state it)"
            )
    # Outwards from the median (which every used figure states): a percentile from fewer figures
    # that would cross its inner neighbour is withheld rather than shown out of order.
    for side in (("p25", "p10"), ("p75", "p90")):
        inner = values["p50"]
        for p in side:
            v = values[p]
            if v is not None and inner is not None and (v > inner if p in ("p25", "p10") else v < inner):
                notes.append(
                    f"{p.upper()} withheld: from fewer figures it would cross the percentile inside it"
                )
                values[p] = None
            inner = values[p] if values[p] is not None else inner
    band = None
    median = values["p50"]
    if median is not None and len(used) > 1:
        spread = math.sqrt(sum(f.weight * (f.percentiles.p50 - median) ** 2 for f in used))  # type: ignore[operator]
        band = (median - spread, median + spread)
    elif median is not None:
        notes.append("one figure only: no confidence band")
    return Blend(
        percentiles=Percentiles(**values),
        currency=currency,
        weights=weights,
        band=band,
        sources_used=len({f.original.source for f in used}),
        notes=notes,
    )
