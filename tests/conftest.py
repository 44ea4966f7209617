"""Shared fixtures. Nothing here reaches the network: model requests are blocked outright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic_ai import models

from hrops.settings import reset_settings

models.ALLOW_MODEL_REQUESTS = False

# A fixed "today" so seeded history, effective dates and relative dates are reproducible.
TODAY = date(2026, 11, 23)
REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own var/ and a pinned today; no .env or HROPS_* from the caller leaks in."""
    for key in list(os.environ):
        if key.startswith("HROPS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HROPS_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HROPS_TODAY", TODAY.isoformat())
    monkeypatch.chdir(tmp_path)  # keeps a developer's .env out
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite HR store."""
    from tools.store.db import migrate

    url = f"sqlite:///{tmp_path / 'var' / 'hrops.db'}"
    migrate(url)
    return url
