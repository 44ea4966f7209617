"""Personal values the store does not hold yet, found by their shape: a new hire's phone typed in
chat, an e-mail address, an ID card number, a salary. A second net behind the store's lexicon and
the reader's hints, so a value typed for the first time does not leave either."""

from __future__ import annotations

import re

from tools.privacy.classes import DataClass

_CURRENCY = r"(?:CNY|RMB|USD|EUR|GBP|JPY|HKD|SGD|INR|AUD|CAD|¥|￥|\$|€|£)"
_NUMBER = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:\s?(?:[kK](?![A-Za-z])|万|千|million|m(?![A-Za-z])))"
_PER = r"(?:元|块|\s?(?:CNY|RMB|USD|EUR|GBP|JPY|HKD|SGD|dollars?|yuan|per (?:year|month|hour|annum)|a (?:year|month)|/\s?(?:yr|year|month|mo|hr|hour)))"

# (pattern, class, kind), the more specific first.
PATTERNS: list[tuple[re.Pattern[str], DataClass, str]] = [
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), DataClass.PERSONAL, "email"),
    # Resident ID card (PRC): 17 digits and a check character.
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])"), DataClass.NATIONAL_ID, "national_id"),
    # US social security number.
    (re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), DataClass.NATIONAL_ID, "national_id"),
    (
        re.compile(
            r"(?<![\w+])(?:\+\d{1,3}[\s-]?\(?\d{1,4}\)?(?:[\s-]?\d{2,4}){2,4}"  # +86 138 0013 8000
            r"|1[3-9]\d{9}"  # PRC mobile
            r"|\(\d{3}\)\s?\d{3}-\d{4}|\d{3}[.-]\d{3}[.-]\d{4}|0\d{2,3}-\d{7,8})(?!\d)"
        ),
        DataClass.PERSONAL,
        "phone",
    ),
    (
        re.compile(rf"{_CURRENCY}\s?{_NUMBER}{_SCALE}?|{_NUMBER}{_SCALE}?{_PER}|(?<![\w.]){_NUMBER}万(?!\w)"),
        DataClass.PAY,
        "pay",
    ),
]


def find(text: str) -> list[tuple[int, int, DataClass, str]]:
    """Every value recognised by its shape, as (start, end, class, kind)."""
    return [
        (m.start(), m.end(), cls, kind) for pattern, cls, kind in PATTERNS for m in pattern.finditer(text)
    ]
