"""Readable problems for YAML files validated by pydantic models (legacy mappings, approval rules):
each names the place a person finds in the file, e.g. `pages[1] (page 'job').fields[2] (key 'dob')`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

# Names a list item in a path, e.g. a dict with `key: dob` -> "key 'dob'"; None: just the index.
Label = Callable[[dict[str, Any]], str | None]


def where(loc: tuple[int | str, ...], data: Any, label: Label) -> str:
    out, node = "", data
    for part in loc:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            name = label(node) if isinstance(node, dict) else None
            out += f"[{part}]" + (f" ({name})" if name else "")
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "top level"


def problems(e: ValidationError, data: Any, label: Label, unknown_key: str) -> list[str]:
    """One line per error; `unknown_key` says where the allowed keys are documented."""
    out = []
    for err in e.errors():
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key ({unknown_key})"
        elif err["type"] == "enum":
            msg = f"{err['input']!r} is not known; {msg[0].lower()}{msg[1:]}"
        out.append(f"{where(err['loc'], data, label)}: {msg}")
    return out
