"""Data classification of every stored field.

Each column carries `info={"classification": ..., "category": ...}`; a test walks the metadata
and fails on any column without one. Redaction before model calls and access checks read it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Classification(StrEnum):
    PUBLIC = "public"  # could be on the company website
    INTERNAL = "internal"  # any employee may see it (work email, title, org unit)
    PERSONAL = "personal"  # identifies or locates a person (home address, phone, birth date)
    SENSITIVE = "sensitive"  # pay, rating, health, national id, gender: strictest handling


class SensitiveCategory(StrEnum):
    PAY = "pay"
    RATING = "rating"
    HEALTH = "health"
    NATIONAL_ID = "national_id"
    DEMOGRAPHIC = "demographic"


def classified(level: Classification, category: SensitiveCategory | None = None) -> dict[str, Any]:
    """`info=` argument for a column; sensitive columns must name their category."""
    if (level is Classification.SENSITIVE) != (category is not None):
        raise ValueError("a category is required for sensitive columns and only for them")
    return {"classification": level, "category": category}


PUBLIC = classified(Classification.PUBLIC)
INTERNAL = classified(Classification.INTERNAL)
PERSONAL = classified(Classification.PERSONAL)
PAY = classified(Classification.SENSITIVE, SensitiveCategory.PAY)
RATING = classified(Classification.SENSITIVE, SensitiveCategory.RATING)
NATIONAL_ID = classified(Classification.SENSITIVE, SensitiveCategory.NATIONAL_ID)
DEMOGRAPHIC = classified(Classification.SENSITIVE, SensitiveCategory.DEMOGRAPHIC)
