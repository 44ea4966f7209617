"""`hrops seed`: the deterministic demo company (owned by the demo-company work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
