"""The next pay date for an employee, read from the payroll calendar the knowledge base holds
(payroll-calendar #calendar-cn / -sg / -gb / -us, the version in force on the day asked), so the
answer and the cited section can never disagree. The imported section keeps each table row as
one line: "Month: December 2026; Pay date: 2026-12-10 (Thu); Cut-off for changes: ...".

On a day the dated table does not cover, the date follows the rule of #pay-dates and
#cut-off-dates (China the 10th, Singapore and London the 25th, moved back to a working day;
New York every other Friday), and the answer says that a public holiday may move it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.market.config import load_config
from tools.store import queries
from tools.store.models import JobAssignment, KbDocument, KbSection

CALENDAR_DOC = "payroll-calendar.en"  # the English rows are parsed; ISO dates in every country's table
ANCHORS = {"CN": "calendar-cn", "SG": "calendar-sg", "GB": "calendar-gb", "US": "calendar-us"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Before a calendar's first row, that row is surely the next pay date only this close to it (the
# shortest gap between two pay dates: 27 days monthly, 14 bi-weekly); earlier, a pay date not in
# the table may come first.
_SURE_BEFORE_FIRST = {"US": 14}
_MONTHLY_GAP = 27


# The rule of #pay-dates / #cut-off-dates: pay day of the month, cut-off day (China: of the month
# before), and one New York pay Friday every other Friday is counted from.
PAY_DAY = {"CN": 10, "SG": 25, "GB": 25}
CUT_OFF_DAY = {"CN": 28, "SG": 15, "GB": 12}
US_PAY_FRIDAY = date(2026, 12, 4)


class PayDateError(ValueError):
    """No pay date can be given; the message says why."""


class PayDate(BaseModel):
    pay_date: date
    cut_off: date | None = None
    covers: str | None = None  # "November 2026" (China) or "2026-11-15 to 2026-11-28" (New York)


class NextPayDate(BaseModel):
    employee_id: str
    on: date
    country: str
    location: str
    anchor: str  # the section the date comes from: a calendar table, or pay-dates for the rule
    version: int  # of the calendar document read
    from_rule: bool = False  # the table does not cover the day: the date follows the general rule
    next: PayDate
    calendar_starts: date | None
    calendar_ends: date | None


def parse_calendar(text: str) -> list[PayDate]:
    """The rows of an imported calendar section, in date order."""
    rows: list[PayDate] = []
    for line in text.splitlines():
        cells = dict(part.split(": ", 1) for part in line.split("; ") if ": " in part)
        paid = _DATE.search(cells.get("Pay date", ""))
        if paid is None:
            continue
        cut = _DATE.search(cells.get("Cut-off for changes", ""))
        rows.append(
            PayDate(
                pay_date=date.fromisoformat(paid.group()),
                cut_off=date.fromisoformat(cut.group()) if cut else None,
                covers=cells.get("Salary for") or cells.get("Pay period"),
            )
        )
    return sorted(rows, key=lambda r: r.pay_date)


def calendar_section(session: Session, anchor: str, on: date) -> tuple[KbSection, int] | None:
    doc = session.scalar(
        select(KbDocument)
        .where(KbDocument.doc_id == CALENDAR_DOC, KbDocument.effective_from <= on)
        .order_by(KbDocument.effective_from.desc(), KbDocument.version.desc())
        .limit(1)
    )
    if doc is None:
        return None
    section = session.scalar(
        select(KbSection).where(KbSection.document_id == doc.id, KbSection.anchor == anchor)
    )
    return (section, doc.version) if section is not None else None


def next_pay_date(session: Session, employee_id: str, on: date) -> NextPayDate:
    """The first pay date on or after `on` for the employee's work country."""
    job = queries.current(session, JobAssignment, employee_id, on)
    if job is None:
        raise PayDateError(f"{employee_id} has no job assignment on {on}; HR Operations must record one")
    country = load_config().country(job.location)
    anchor = ANCHORS.get(country or "")
    if anchor is None:
        raise PayDateError(f"the payroll calendar has no pay dates for {job.location}; ask HR Operations")
    found = calendar_section(session, anchor, on)
    if found is None:
        raise PayDateError(
            f"the payroll calendar ({CALENDAR_DOC}#{anchor}) is not in the knowledge base; "
            "HR Operations must import it (`hrops kb import`)"
        )
    section, version = found
    rows = parse_calendar(section.text)
    upcoming = next((r for r in rows if r.pay_date >= on), None)
    gap = _SURE_BEFORE_FIRST.get(country or "", _MONTHLY_GAP)
    if upcoming is not None and upcoming is rows[0] and (upcoming.pay_date - on).days > gap:
        upcoming = None  # before the calendar starts: an earlier pay date may not be in it
    from_rule = upcoming is None
    return NextPayDate(
        employee_id=employee_id,
        on=on,
        country=country or "",
        location=job.location,
        anchor="pay-dates" if from_rule else anchor,
        version=version,
        from_rule=from_rule,
        next=rule_pay_date(country or "", on) if from_rule else upcoming,
        calendar_starts=rows[0].pay_date if rows else None,
        calendar_ends=rows[-1].pay_date if rows else None,
    )


def _working_day(day: date) -> date:
    """The day itself, or the last weekday before it (public holidays are not known here)."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _month(year: int, month: int) -> tuple[int, int]:
    return year + (month - 1) // 12, (month - 1) % 12 + 1


def rule_pay_date(country: str, on: date) -> PayDate:
    """The first pay date on or after `on` by the rule of #pay-dates, without holiday moves."""
    if country == "US":
        pay = US_PAY_FRIDAY + timedelta(days=14 * -((US_PAY_FRIDAY - on).days // 14))
        end = pay - timedelta(days=6)  # the period ended on the Saturday six days before
        period = f"{end - timedelta(days=13)} to {end}"
        return PayDate(pay_date=pay, cut_off=pay - timedelta(days=9), covers=period)
    year, month = on.year, on.month
    while (pay := _working_day(date(year, month, PAY_DAY[country]))) < on:
        year, month = _month(year, month + 1)
    if country == "CN":  # the 28th of the month before, for the month before
        before = _month(year, month - 1)
        cut_off = _working_day(date(*before, CUT_OFF_DAY[country]))
        covers = date(*before, 1).strftime("%B %Y")
    else:
        cut_off = _working_day(date(year, month, CUT_OFF_DAY[country]))
        covers = date(year, month, 1).strftime("%B %Y")
    return PayDate(pay_date=pay, cut_off=cut_off, covers=covers)
