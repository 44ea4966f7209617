"""One mapped field of one row: read (column, template or constant), translate (`map`), default,
then convert to the target's kind. Problems raise `FieldProblem` with a message for the user."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from tools.employee_io.mapping import AS_OF, FieldSpec, template_columns
from tools.employee_io.targets import Kind, Target

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_FORMAT_WORDS = {
    "%Y": "YYYY",
    "%y": "YY",
    "%m": "MM",
    "%d": "DD",
    "%b": "Mon",
    "%B": "Month",
    "%H": "hh",
    "%M": "mm",
    "%S": "ss",
}


class FieldProblem(ValueError):
    pass


def as_text(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _raw(spec: FieldSpec, values: dict[str, Any]) -> Any:
    if spec.is_constant:
        return spec.value
    if spec.column is not None:
        return values.get(spec.column)
    assert spec.template is not None
    parts = {c: values.get(c) for c in template_columns(spec.template)}
    if any(v is None for v in parts.values()):
        return None  # "IBM-{EmployeeNumber}" with no number is missing, not "IBM-"
    return (
        re.sub(
            r"\{([^{}]*)\}",
            lambda m: as_text(parts[m.group(1).strip()]),
            spec.template.replace("{{", "\0").replace("}}", "\1"),
        )
        .replace("\0", "{")
        .replace("\1", "}")
    )


def _lookup(spec: FieldSpec, raw: Any) -> Any:
    assert spec.map is not None
    key = as_text(raw).strip()
    if key in spec.map:
        return spec.map[key]
    folded = {k.casefold(): v for k, v in spec.map.items()}
    if key.casefold() in folded:
        return folded[key.casefold()]
    if spec.default is not None:
        return spec.default
    raise FieldProblem(f"{key!r} is not in the map (expected one of: {', '.join(spec.map)})")


def describe_format(fmt: str) -> str:
    out = fmt
    for code, word in _FORMAT_WORDS.items():
        out = out.replace(code, word)
    return out


def to_number(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise FieldProblem(f"not a number: {raw!r}")
    if isinstance(raw, int | float | Decimal):
        return Decimal(str(raw))
    text = as_text(raw).strip().replace("\u00a0", "").replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise FieldProblem(f"not a number: {as_text(raw)!r}") from None
    if not number.is_finite():
        raise FieldProblem(f"not a number: {as_text(raw)!r}")
    return number


def years_before(as_of: date, years: Decimal) -> date:
    """The day `years` before `as_of`; whole years by the calendar (29 Feb -> 28 Feb), a fraction in days."""
    whole = int(years)
    try:
        day = as_of.replace(year=as_of.year - whole)
    except ValueError:
        day = as_of.replace(year=as_of.year - whole, day=28)
    return day - timedelta(days=round(float(years - whole) * 365.25))


def _to_date(spec: FieldSpec, raw: Any, as_of: date) -> date:
    if spec.years_before_as_of:
        try:
            years = to_number(raw) + Decimal(str(spec.add or 0))
        except FieldProblem:
            raise FieldProblem(
                f"expected a number of years before the as-of date, got {as_text(raw)!r}"
            ) from None
        if years < 0:
            raise FieldProblem(f"{as_text(raw)!r} years is negative")
        return years_before(as_of, years)
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = as_text(raw).strip()
    if text == AS_OF:
        return as_of
    example_day = date(as_of.year, 11, 23)
    if spec.date_format:
        try:
            return datetime.strptime(text, spec.date_format).date()
        except ValueError:
            raise FieldProblem(
                f"bad date {text!r}: expected {describe_format(spec.date_format)}, e.g. "
                f"{example_day.strftime(spec.date_format)}"
            ) from None
    try:
        return date.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise FieldProblem(
                f"bad date {text!r}: expected YYYY-MM-DD, e.g. {example_day.isoformat()} "
                "(set date_format in the mapping for other layouts, e.g. %d/%m/%Y)"
            ) from None


def resolve(spec: FieldSpec, target: Target, values: dict[str, Any], as_of: date) -> Any:
    """The converted value of one field (None when empty). Raises FieldProblem."""
    raw = _raw(spec, values)
    if isinstance(raw, str):
        raw = raw.strip() or None
    if raw is not None and spec.map is not None:
        raw = _lookup(spec, raw)
    if raw is None:
        raw = spec.default
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if target.kind is Kind.DATE:
        return _to_date(spec, raw, as_of)
    if target.kind is Kind.NUMBER:
        text = as_text(raw).strip()
        number = to_number(text[:-1]) / 100 if target.name == "fte" and text.endswith("%") else to_number(raw)
        return number + Decimal(str(spec.add)) if spec.add is not None else number
    return " ".join(as_text(raw).split())
