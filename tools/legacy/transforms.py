"""Value transforms: HR value -> what the legacy field expects. Pure functions, no I/O."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tools.legacy.errors import DataError
from tools.legacy.mapping import FieldMap, Transform


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    return str(value)


def apply(
    value: Any,
    steps: list[Transform],
    record: Mapping[str, Any],
    tables: Mapping[str, Mapping[str, str]],
    *,
    field: str,
) -> Any:
    for step in steps:
        op, arg = step.op
        if op == "default":
            value = arg if value in (None, "") else value
        elif value in (None, ""):
            continue  # empty stays empty; `required` decides whether that is an error
        elif op == "date":
            if isinstance(value, str):
                value = date.fromisoformat(value)
            if not isinstance(value, (date, datetime)):
                raise DataError(f"field {field!r}: date transform needs a date")
            value = value.strftime(arg)
        elif op == "table":
            table = tables[arg]
            code = table.get(_text(value))
            if code is None:
                # Name the table and the missing entry only: the value itself may be personal.
                raise DataError(
                    f"field {field!r}: no code in table {arg!r} for this value; add it to the mapping's "
                    f"`tables.{arg}` (known entries: {len(table)})"
                )
            value = code
        elif op == "template":
            value = arg.format(value=_text(value), **{k: _text(v) for k, v in record.items()})
        elif op == "pad":
            value = _text(value).rjust(arg, "0")
        elif op == "digits":
            value = "".join(ch for ch in _text(value) if ch.isdigit())
        elif op == "upper":
            value = _text(value).upper()
        elif op == "lower":
            value = _text(value).lower()
        elif op == "number":
            value = format(Decimal(_text(value)), arg)
        elif op == "truncate":
            value = _text(value)[:arg]
        elif op == "yes_no":
            value = "Y" if value not in (False, "N", "n", "false", "0", 0) else "N"
        elif op == "hook":
            value = _hook(arg)(value, record)
    return value


def _hook(spec: str) -> Any:
    module, _, name = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise DataError(f"transform hook {spec!r} cannot be loaded: {e}") from None


def field_value(
    f: FieldMap, record: Mapping[str, Any], tables: Mapping[str, Mapping[str, str]]
) -> str | bool | None:
    """The value to put into the field: a string, or a bool for checkboxes; None leaves it alone."""
    raw = record.get(f.source) if f.source else f.value.format(**{k: _text(v) for k, v in record.items()})  # type: ignore[union-attr]
    value = apply(raw, f.transforms, record, tables, field=f.key)
    if f.type == "checkbox":
        return value not in (None, "", False, "N", "n", "false", "0")
    if value in (None, ""):
        if f.required:
            raise DataError(
                f"field {f.key!r}: the HR record has no value for {f.source or 'it'} and it is required"
            )
        return None
    return _text(value)
