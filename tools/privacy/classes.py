"""What the redaction gate masks, by class. A model endpoint's policy names the classes it may see.

The store classifies columns for people (public, internal, personal, sensitive by category); a model
endpoint is a different audience. Names, employee ids, work e-mails and usernames are `internal` in
the store (any employee may look them up) but they identify a person, so before a model they form
their own class, `identity`.
"""

from __future__ import annotations

from enum import StrEnum

from tools.store.classification import Classification, SensitiveCategory


class DataClass(StrEnum):
    IDENTITY = "identity"  # names, employee ids, work e-mails, usernames
    PERSONAL = "personal"  # home address, phone, personal e-mail, birth date
    PAY = "pay"
    RATING = "rating"
    HEALTH = "health"
    NATIONAL_ID = "national_id"
    DEMOGRAPHIC = "demographic"


def of_column(info: dict) -> DataClass | None:
    """The class of a store column for the gate; None for public and internal columns."""
    level = info.get("classification")
    if level is Classification.PERSONAL:
        return DataClass.PERSONAL
    if level is Classification.SENSITIVE:
        category: SensitiveCategory = info["category"]
        return DataClass(category.value)
    return None
