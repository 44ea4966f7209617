"""CLI commands that need no running stack: tools list, users list, token create, config show, db upgrade."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from hrops.api import auth
from hrops.cli import app
from hrops.cli.common import CliError
from hrops.settings import get_settings

runner = CliRunner()


def test_tools_list_prints_the_catalogue(store_url: str) -> None:
    out = runner.invoke(app, ["tools", "list"], env={"COLUMNS": "250"}).output
    assert "employee.change_address" in out and "pii" in out and "required" in out
    assert "employee.profile" in out and "read" in out


def test_users_list_and_token(company: str) -> None:
    out = runner.invoke(app, ["users", "list"], env={"COLUMNS": "200"}).output
    assert "amy.hughes" in out and "hr_ops" in out and "6 users in all" in out
    token = runner.invoke(app, ["token", "create", "E1002"]).output.strip()
    assert auth.verify(get_settings(), token) == "li.wei"
    with pytest.raises(CliError, match="unknown user 'ghost'"):
        runner.invoke(app, ["token", "create", "ghost"], catch_exceptions=False)


def test_config_show_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HROPS_MODEL_API_KEY", "sk-very-secret")
    from hrops.settings import reset_settings

    reset_settings()
    out = runner.invoke(app, ["config", "show"], env={"COLUMNS": "200"}).output
    assert "HROPS_MODEL_API_KEY" in out and "sk-very-secret" not in out and "***" in out


def test_db_upgrade_is_idempotent() -> None:
    from tools.store.db import head_revision

    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-m", "hrops", "db", "upgrade"], capture_output=True, text=True
        )
        assert proc.returncode == 0 and f"schema at revision {head_revision()}" in proc.stdout
