"""Errors that stop an import or export as a whole (row problems are reported, not raised)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class EmployeeIOError(Exception):
    """Base: the message says what is wrong and what to do; callers show it as one line."""


class MappingError(EmployeeIOError):
    """The mapping YAML is unreadable or describes something impossible."""


class ImportFileError(EmployeeIOError):
    """The data file cannot be imported at all: unreadable, wrong type, empty, wrong columns."""


class ExportError(EmployeeIOError):
    """The export cannot be made (bad output path, unknown org unit)."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a choice is close, else ''."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        folded = {c.casefold(): c for c in choices}
        close = [folded[word.casefold()]] if word.casefold() in folded else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def listing(names: Iterable[str], limit: int = 40) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f" … and {len(names) - limit} more" if len(names) > limit else "")
