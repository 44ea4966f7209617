"""Settings: one object, documented in docs/config.md, HROPS_TODAY pins the product's today."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from hrops import clock
from hrops.settings import Settings, get_settings, reset_settings, settings_reference
from tests.conftest import REPO, TODAY


def test_docs_config_lists_every_setting_as_the_code_defines_it() -> None:
    assert (REPO / "docs" / "config.md").read_text() == settings_reference()
    for name in Settings.model_fields:
        assert f"`HROPS_{name.upper()}`" in settings_reference()


def test_today_is_pinned_by_the_environment(monkeypatch) -> None:
    assert clock.today() == TODAY and clock.now().date() == TODAY
    monkeypatch.delenv("HROPS_TODAY")
    reset_settings()
    assert clock.today() == date.today()


def test_env_file_and_derived_values(tmp_path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("HROPS_API_PORT=9100\nHROPS_LEGACY_STEP_TIMEOUT=7.5\n")
    reset_settings()
    s = get_settings()
    assert s.api_port == 9100 and s.api_url.endswith(":9100")
    assert s.legacy_step_timeout == 7.5
    assert s.db_url == f"sqlite:///{tmp_path / 'var' / 'hrops.db'}"
    assert s.embedded_temporal and s.temporal_target == "127.0.0.1:7233"
    monkeypatch.setenv("HROPS_TEMPORAL_ADDRESS", "temporal.prod:7233")
    reset_settings()
    assert not get_settings().embedded_temporal and get_settings().temporal_target == "temporal.prod:7233"


def test_a_bad_setting_is_named_in_one_line(monkeypatch) -> None:
    monkeypatch.setenv("HROPS_TODAY", "2026-13-01")
    proc = subprocess.run([sys.executable, "-m", "hrops", "version"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "bad setting HROPS_TODAY='2026-13-01'" in proc.stderr and "Traceback" not in proc.stderr
