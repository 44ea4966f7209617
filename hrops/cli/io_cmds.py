"""`hrops import` and `hrops export` (owned by the import/export work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
