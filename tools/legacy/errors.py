"""What can go wrong in a legacy system, split by what should happen next.

Transient faults are retried (with a fresh login when the session went away); everything else
needs a person: bad data, a page that no longer matches its mapping, a record that reads back wrong.
"""

from __future__ import annotations


class LegacyError(Exception):
    """Base class. `retryable` tells the workflow whether a retry can help."""

    retryable = False
    kind = "error"

    def __init__(self, message: str, *, screenshot: str | None = None, page: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.screenshot = screenshot  # evidence file relative to the evidence root
        self.page = page  # mapping page name where it happened


class TransientError(LegacyError):
    """Server error, timeout, a dropdown that did not load: the same step may well work next time."""

    retryable = True
    kind = "transient"


class SessionExpired(TransientError):
    kind = "session_expired"


class LoginFailed(LegacyError):
    """Wrong credentials: retrying would only lock the account."""

    kind = "login_failed"


class ValidationRejected(LegacyError):
    """The legacy system refused the data and said why (shown on the page)."""

    kind = "validation"

    def __init__(self, messages: list[str], **kw: str | None) -> None:
        super().__init__("; ".join(messages), **kw)  # type: ignore[arg-type]
        self.messages = messages


class FieldNotFound(LegacyError):
    """No selector strategy of a mapped field matches the page: the page changed (mapping drift)."""

    kind = "field_not_found"

    def __init__(self, field: str, tried: list[str], **kw: str | None) -> None:
        super().__init__(f"field {field!r} not found on the page (tried {', '.join(tried)})", **kw)  # type: ignore[arg-type]
        self.field = field


class DataError(LegacyError):
    """The HR record cannot be expressed in the legacy system (no code for a value, missing data)."""

    kind = "data"


class VerificationFailed(LegacyError):
    """The record read back differs from what was entered."""

    kind = "verification"

    def __init__(self, mismatches: dict[str, tuple[str, str]], **kw: str | None) -> None:
        # Field names only: messages reach logs, values are personal data (they stay in evidence).
        super().__init__(f"read-back differs in {', '.join(mismatches)}", **kw)  # type: ignore[arg-type]
        self.mismatches = mismatches


class MappingMismatch(LegacyError):
    """A selector matched an element of another kind than the mapping says (a text box for a checkbox)."""

    kind = "mapping"


class SearchBroken(LegacyError):
    """The search before create does not find a record just entered: retries would duplicate."""

    kind = "search_broken"


class SearchUnclear(LegacyError):
    """The search page showed neither results nor its no-results message."""

    kind = "search_unclear"


class RecordMissing(LegacyError):
    """An update was asked for a record the legacy system does not have."""

    kind = "record_missing"
