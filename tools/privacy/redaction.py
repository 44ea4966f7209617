"""Masking with reversible placeholders: the model sees `<EMPLOYEE_1>`, the answer is re-filled here.

Values are found three ways, longest match first: the store's lexicon (every classified value it
holds), hints from the caller (what the offline reader already read as a name, an address or an
amount in a chat message) and patterns (e-mail, phone, ID number, money). A class the endpoint may
see is left as it is and counted as sent; any other is replaced by a placeholder and counted as
masked. One `Redactor` serves one model call: the same value gets the same placeholder every time
it appears, and a person's name, id and e-mail share a number (`<EMPLOYEE_1>`, `<EMPLOYEE_1_ID>`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from tools.privacy import patterns
from tools.privacy.classes import DataClass
from tools.privacy.lexicon import Known, Lexicon


@dataclass(frozen=True)
class Hint:
    """A value the caller knows is classified (read from a message before the model sees it)."""

    text: str
    cls: DataClass
    kind: str


_hints: ContextVar[tuple[Hint, ...]] = ContextVar("redaction_hints", default=())


@contextmanager
def hinted(hints: Iterable[Hint]) -> Iterator[None]:
    """Model calls in this block also mask these values."""
    token = _hints.set((*_hints.get(), *(h for h in hints if len(h.text.strip()) >= 2)))
    try:
        yield
    finally:
        _hints.reset(token)


def current_hints() -> tuple[Hint, ...]:
    return _hints.get()


_SUFFIX = {
    "name": "",
    "id": "_ID",
    "email": "_EMAIL",
    "user": "_USER",
    "given": "_GIVEN",
    "family": "_FAMILY",
}
PLACEHOLDER = re.compile(r"<[A-Z]+(?:_[A-Z]+)*_\d+(?:_[A-Z0-9]+)*>")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    known: Known


class Redactor:
    def __init__(self, lexicon: Lexicon, allowed: frozenset[DataClass], hints: Iterable[Hint] = ()) -> None:
        self.lexicon = lexicon
        self.allowed = allowed
        self.hints = tuple(hints)
        self.vault: dict[str, str] = {}  # placeholder -> the value it stands for
        self._by_value: dict[str, str] = {}  # value (lower case) -> placeholder
        self._people: dict[str, int] = {}
        self._counters: Counter[str] = Counter()
        self.masked: Counter[str] = Counter()  # class -> distinct values masked
        self.sent: Counter[str] = Counter()  # class -> distinct values the policy let through
        self._sent_values: set[tuple[str, str]] = set()

    def _spans(self, text: str) -> list[_Span]:
        found = [_Span(s, e, k) for s, e, k in self.lexicon.find(text)]
        same_length = len(text.lower()) == len(text)
        haystack = text.lower() if same_length else text
        for hint in self.hints:
            needle = hint.text.strip().lower() if same_length else hint.text.strip()
            at = haystack.find(needle)
            while at >= 0:
                found.append(_Span(at, at + len(needle), Known(hint.cls, hint.kind)))
                at = haystack.find(needle, at + 1)
        found += [_Span(s, e, Known(cls, kind)) for s, e, cls, kind in patterns.find(text)]
        # Longest leftmost first; a lexicon match wins a tie (it knows whose value it is).
        found.sort(key=lambda s: (s.start, -(s.end - s.start)))
        chosen, reach = [], 0
        for span in found:
            if span.start >= reach:
                chosen.append(span)
                reach = span.end
        return chosen

    def _placeholder(self, value: str, known: Known) -> str:
        key = value.lower()
        if key in self._by_value:
            return self._by_value[key]
        if known.cls is DataClass.IDENTITY and known.person and known.kind in _SUFFIX:
            number = self._people.setdefault(known.person, len(self._people) + 1)
            label = f"EMPLOYEE_{number}{_SUFFIX[known.kind]}"
        else:
            kind = {"name": "NAME", "given": "NAME", "family": "NAME", "date": "DATE"}.get(
                known.kind, known.kind.upper()
            )
            kind = "PERSON" if known.cls is DataClass.IDENTITY and kind in ("NAME", "USER") else kind
            self._counters[kind] += 1
            label = f"{kind}_{self._counters[kind]}"
        base, n = label, 1
        while f"<{label}>" in self.vault:  # another spelling of the same person's name
            n += 1
            label = f"{base}_{n}"
        placeholder = f"<{label}>"
        self._by_value[key] = placeholder
        self.vault[placeholder] = value
        self.masked[known.cls] += 1
        return placeholder

    def mask(self, text: str) -> str:
        """`text` with every value of a class the endpoint may not see replaced by its placeholder."""
        out, last = [], 0
        for span in self._spans(text):
            value = text[span.start : span.end]
            if span.known.cls in self.allowed:
                if (span.known.cls, value.lower()) not in self._sent_values:
                    self._sent_values.add((span.known.cls, value.lower()))
                    self.sent[span.known.cls] += 1
                continue
            out += [text[last : span.start], self._placeholder(value, span.known)]
            last = span.end
        out.append(text[last:])
        return "".join(out)

    def refill(self, value: Any) -> Any:
        """The model's output with every placeholder it was given put back (strings, lists, dicts)."""
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: self.vault.get(m.group(0), m.group(0)), value)
        if isinstance(value, list):
            return [self.refill(v) for v in value]
        if isinstance(value, dict):
            return {k: self.refill(v) for k, v in value.items()}
        return value
