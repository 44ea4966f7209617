"""Percentiles of individual data points (ai-jobs rows, the company's people), one method everywhere:
linear interpolation between closest ranks (`statistics.quantiles(method="inclusive")`, the same as
numpy's and Excel's PERCENTILE.INC)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from tools.market.models import MIN_POINTS, Percentiles

CUTS = {"p10": 10, "p25": 25, "p50": 50, "p75": 75, "p90": 90}


def percentiles(values: Sequence[float]) -> Percentiles:
    """P10..P90 of `values`; all None below MIN_POINTS values (a suppressed cut shows nothing)."""
    if len(values) < MIN_POINTS:
        return Percentiles()
    q = statistics.quantiles(values, n=100, method="inclusive")
    return Percentiles(**{name: q[p - 1] for name, p in CUTS.items()})
