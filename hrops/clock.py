"""The product's notion of today: `HROPS_TODAY` pins it, otherwise the real date.

Only activities, tools and clients call this. Workflow code uses `workflow.now()` and receives
business dates in its input, so replays never depend on the environment.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from hrops.settings import get_settings


def today() -> date:
    return get_settings().today or date.today()


def now() -> datetime:
    """Current UTC time; with a pinned today, that day at the current wall-clock time."""
    real = datetime.now(UTC)
    pinned = get_settings().today
    return real.replace(year=pinned.year, month=pinned.month, day=pinned.day) if pinned else real
