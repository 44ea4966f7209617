"""Every classified value the store holds, found in any text in one pass (Aho-Corasick).

Which columns are matched is a decision per column, written down here: `MATCHED` names the column
and how its values read in text; `NOT_MATCHED` says why a classified column is not (a code such as
a gender or a currency cannot be told apart from the same word used for anything else, so those
columns are kept out of prompts by the prompt models instead). A test fails on a classified column
that is in neither list, so a new column is decided, not forgotten.

The lexicon is rebuilt when a table it reads gained or lost rows (a new hire, a new pay or address
row: records are effective-dated, so changes are new rows) and at least every five minutes, for the
rare edit in place such as a corrected name.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal

import ahocorasick
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tools.privacy.classes import DataClass
from tools.store.models import (
    Compensation,
    Employee,
    EmployeeAddress,
    PayBand,
    User,
)


@dataclass(frozen=True)
class Known:
    """What a value in the store is: its class, how to name it, and whose it is (for identity)."""

    cls: DataClass
    kind: (
        str  # name, given, family, id, email, user, phone, address, postcode, date, national_id, pay, secret
    )
    person: str | None = None  # the employee id or username it identifies


# column -> (class, kind); identity columns are internal in the store but identify a person.
MATCHED: dict[InstrumentedAttribute, tuple[DataClass, str]] = {
    Employee.id: (DataClass.IDENTITY, "id"),
    Employee.display_name: (DataClass.IDENTITY, "name"),
    Employee.given_name: (DataClass.IDENTITY, "given"),
    Employee.family_name: (DataClass.IDENTITY, "family"),
    Employee.work_email: (DataClass.IDENTITY, "email"),
    Employee.personal_email: (DataClass.PERSONAL, "email"),
    Employee.phone: (DataClass.PERSONAL, "phone"),
    Employee.birth_date: (DataClass.PERSONAL, "date"),
    Employee.national_id: (DataClass.NATIONAL_ID, "national_id"),
    User.username: (DataClass.IDENTITY, "user"),
    User.display_name: (DataClass.IDENTITY, "name"),
    User.password_hash: (DataClass.PERSONAL, "secret"),
    EmployeeAddress.line1: (DataClass.PERSONAL, "address"),
    EmployeeAddress.line2: (DataClass.PERSONAL, "address"),
    EmployeeAddress.postcode: (DataClass.PERSONAL, "postcode"),
    Compensation.base_amount: (DataClass.PAY, "pay"),
    PayBand.min_amount: (DataClass.PAY, "pay"),
    PayBand.mid_amount: (DataClass.PAY, "pay"),
    PayBand.max_amount: (DataClass.PAY, "pay"),
}

# "table.column" -> why its values are not matched in text.
_CODE = "a code from a short list: the same word means other things in text; no prompt model carries it"
NOT_MATCHED: dict[str, str] = {
    "employees.gender": _CODE,
    "employees.leaver_type": _CODE,
    "employees.leaver_reason": _CODE,
    "employee_addresses.city": "a place shared by many people: locations are internal facts in prompts",
    "employee_addresses.region": "a place shared by many people: locations are internal facts in prompts",
    "employee_addresses.country": _CODE,
    "compensation.currency": _CODE,
    "compensation.frequency": _CODE,
    "compensation.change_reason": _CODE,
    "pay_bands.currency": _CODE,
    "pay_bands.frequency": _CODE,
    "learning_records.score": "a small number that reads like any other: no prompt model carries scores",
    "employee_facts.value": "an imported number that reads like any other: no prompt model carries it",
    **dict.fromkeys(
        ("unanswered_questions.question", "kb_cases.question"),
        "free text: the names, numbers and patterns in it are what is matched",
    ),
    "kb_cases.answer": "HR's free text to one asker, never sent to a model",
    "kb_cases.triage_why": "a few of the asker's own words (or a product example), never sent to a model",
    **dict.fromkeys(
        ("model_receipts.sent_text", "review_items.prompt", "review_items.output", "review_items.correction"),
        "a copy of what a model received or wrote: its values come from the columns matched here",
    ),
    "review_items.reason": "a reviewer's free text, never sent to a model",
    "leave_records.leave_type": _CODE,
    **dict.fromkeys(
        ("leave_records.start_on", "leave_records.end_on", "leave_records.days"),
        "a day or a small number that reads like any other: no prompt model carries leave records",
    ),
}

_MIN_LENGTH = 2  # a one-letter value would mask every such letter


def _is_boundary(text: str, i: int) -> bool:
    """True when position i does not continue an ASCII word (CJK text has no spaces to look for)."""
    return i < 0 or i >= len(text) or not (text[i].isascii() and text[i].isalnum())


def pay_spellings(amount: Decimal) -> set[str]:
    """How a pay figure is written in text: 360000, 360,000, 360000.00, 360,000.00, 36万, 360k."""
    out = {f"{amount:.2f}", f"{amount:,.2f}"}
    if amount == amount.to_integral_value():
        n = int(amount)
        out |= {str(n), f"{n:,}"}
        if n % 10000 == 0:
            out.add(f"{n // 10000}万")
        if n % 1000 == 0:
            out.add(f"{n // 1000}k")
    return {s for s in out if len(s.replace(",", "").replace(".", "")) >= 4}


class Lexicon:
    """The store's classified values, searchable in any text."""

    def __init__(self, values: dict[str, Known]) -> None:
        self.size = len(values)
        self._automaton = ahocorasick.Automaton()
        for text, known in values.items():
            self._automaton.add_word(text, (len(text), known))
        if values:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[tuple[int, int, Known]]:
        """Every match in `text` as (start, end, what), on ASCII word boundaries, overlaps included."""
        if not self.size:
            return []
        folded = _fold(text)
        out = []
        for end, (length, known) in self._automaton.iter(folded):
            start = end - length + 1
            if _is_boundary(text, start - 1) and _is_boundary(text, end + 1):
                out.append((start, end + 1, known))
        return out


def _fold(text: str) -> str:
    """Lower case with the same length (a few characters lengthen when lowered: those stay)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _person_columns() -> dict[InstrumentedAttribute, ColumnElement]:
    # Whose value it is: identity values are named after the person they identify.
    user = func.coalesce(User.employee_id, User.username)
    return {
        Employee.id: Employee.id,
        Employee.display_name: Employee.id,
        Employee.given_name: Employee.id,
        Employee.family_name: Employee.id,
        Employee.work_email: Employee.id,
        User.username: user,
        User.display_name: user,
    }


def read_values(session: Session) -> dict[str, Known]:
    """text (lower case) -> what it is. A value two people share names nobody in particular."""
    values: dict[str, Known] = {}
    owners = _person_columns()
    for column, (cls, kind) in MATCHED.items():
        owner = owners.get(column)
        query = select(column, owner) if owner is not None else select(column).distinct()
        for row in session.execute(query.where(column.is_not(None))):
            value, person = row[0], (row[1] if owner is not None else None)
            if isinstance(value, Decimal):
                spellings = pay_spellings(value)
            else:
                spellings = {value.isoformat() if hasattr(value, "isoformat") else str(value).strip()}
            for text in spellings:
                if len(text) < _MIN_LENGTH:
                    continue
                key = _fold(text)
                seen = values.get(key)
                if seen is None:
                    values[key] = Known(cls, kind, person)
                elif seen.person != person and seen.cls is cls:
                    values[key] = Known(cls, kind if seen.kind == kind else "name", None)
    # Full names as written in text, in both orders ("Fang Wang", "Wang Fang").
    for eid, given, family in session.execute(select(Employee.id, Employee.given_name, Employee.family_name)):
        for text in (f"{given} {family}", f"{family} {given}"):
            values.setdefault(_fold(text), Known(DataClass.IDENTITY, "name", eid))
    return values


def _version(session: Session) -> tuple:
    """Changes when a matched table gains, loses or renumbers rows (new hires, pay and address
    rows are new rows: the records are effective-dated)."""
    return tuple(
        session.execute(select(func.count(), func.max(key)).select_from(key.class_)).one()
        for key in (Employee.created_at, User.username, EmployeeAddress.id, Compensation.id, PayBand.id)
    )


# In-place edits (a corrected name) change no count: the lexicon is also rebuilt after this long.
MAX_AGE_SECONDS = 300.0
_cache: dict[str, tuple[tuple, float, Lexicon]] = {}
_lock = threading.Lock()


def lexicon_for(session: Session, key: str) -> Lexicon:
    """The lexicon of the store behind `session`, rebuilt only when the store changed."""
    version = _version(session)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
        if cached and cached[0] == version and now - cached[1] < MAX_AGE_SECONDS:
            return cached[2]
    lexicon = Lexicon(read_values(session))
    with _lock:
        _cache[key] = (version, now, lexicon)
    return lexicon
