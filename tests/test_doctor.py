"""`hrops doctor` against real servers and files: a healthy deployment is all OK; each broken part
is named with the setting or command that fixes it; nothing is written; no secret is ever shown."""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hrops import doctor
from hrops.cli import app as cli
from hrops.settings import get_settings, reset_settings
from tests.fake_openai import fake_openai
from workflows import search_attributes, task_queues

API_KEY = "sk-doctor-7f3a91c2e4b6d8f0a1c3e5b7d9f1a3c5"
SECRET_KEY = "0123456789abcdef-signing-key-never-printed-0123456789"
LEGACY_PASSWORD = "hunter2-legacy-password-x9"
SECRETS = (API_KEY, SECRET_KEY, LEGACY_PASSWORD)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for key, value in values.items():
        monkeypatch.setenv(f"HROPS_{key.upper()}", value)
    reset_settings()


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["doctor", *args], env={"COLUMNS": "250"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


async def _doctor() -> tuple[int, dict[str, doctor.Check], str]:
    """`hrops doctor --json` and `hrops doctor` as users run them (in a thread: each has its own loop)."""
    code, out = await asyncio.to_thread(_invoke, "--json")
    text_code, text = await asyncio.to_thread(_invoke)
    assert code == text_code
    report = doctor.Report.model_validate_json(out)
    assert json.loads(out)["ok"] is (code == 0)
    return code, {c.name: c for c in report.checks}, out + text


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*")) if root.exists() else []


def _browser(tmp_path: Path) -> Path:
    """Doctor checks that the configured browser exists and is executable (it does not start it)."""
    path = tmp_path / "bin" / "chromium"
    path.parent.mkdir()
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def _legacy_login(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "secrets" / "legacy.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"classic_hris:\n  username: hr.robot\n  password: {LEGACY_PASSWORD}\n")
    path.chmod(mode)
    return path


async def test_a_healthy_deployment_is_all_ok(
    temporal_env, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.worker import build_worker

    _env(
        monkeypatch,
        temporal_address=temporal_env.client.service_client.config.target_host,
        browser_path=str(_browser(tmp_path)),
        secret_key=SECRET_KEY,
        legacy_sync='["classic_hris"]',
        legacy_credentials_file=str(_legacy_login(tmp_path, 0o600)),
    )
    var_before = _files(get_settings().var_dir)
    async with (
        build_worker(temporal_env.client, task_queues.MAIN),
        build_worker(temporal_env.client, task_queues.RPA),
    ):
        for _ in range(50):  # a worker shows as a poller once its first poll reached the server
            code, checks, out = await _doctor()
            if code == 0 and all(c.status is doctor.Status.OK for c in checks.values()):
                break
            await asyncio.sleep(0.2)
    assert {name: c.status.value for name, c in checks.items()} == {
        "temporal": "OK",
        "search attributes": "OK",
        "database": "OK",
        "browser": "OK",
        "model endpoint": "OK",
        "API signing key": "OK",
        "legacy logins": "OK",
        "workers hrops-main": "OK",
        "workers hrops-rpa": "OK",
    }, out
    assert "offline model, nothing to reach" in checks["model endpoint"].detail
    assert "classic_hris" in checks["legacy logins"].detail
    assert "all good" in out and "FAIL" not in out and "WARN" not in out
    assert not [s for s in SECRETS if s in out]
    assert _files(get_settings().var_dir) == var_before  # read-only


def test_temporal_at_a_closed_port_fails_naming_the_setting(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _closed_port()
    _env(monkeypatch, temporal_address=f"127.0.0.1:{port}")
    code, out = _invoke()
    assert code == 1
    line = next(ln for ln in out.splitlines() if ln.startswith("FAIL") and " temporal " in ln)
    assert f"cannot reach Temporal at 127.0.0.1:{port}" in line and "HROPS_TEMPORAL_ADDRESS" in line
    # What needs Temporal says it was not checked rather than failing a second time.
    for name in ("search attributes", "workers hrops-main", "workers hrops-rpa"):
        assert any(ln.startswith("WARN") and name in ln and "not checked" in ln for ln in out.splitlines())


async def test_a_cluster_without_our_namespace_attributes_or_workers(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bare dev server: the default namespace lacks our search attributes and nobody polls."""
    from temporalio.testing import WorkflowEnvironment

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(get_settings().temporal_cli()), dev_server_log_level="error"
    )
    try:
        _env(monkeypatch, temporal_address=env.client.service_client.config.target_host)
        code, checks, _ = await _doctor()
        assert code == 1 and checks["temporal"].status is doctor.Status.OK
        attrs = checks["search attributes"]
        assert attrs.status is doctor.Status.FAIL
        assert all(k.name in attrs.detail for k in search_attributes.ALL)
        assert "`hrops temporal setup`" in (attrs.fix or "")
        for queue in task_queues.ALL:
            idle = checks[f"workers {queue}"]
            assert idle.status is doctor.Status.WARN and f"no worker polls {queue}" in idle.detail
            assert f"hrops worker --queue {queue}" in (idle.fix or "")

        _env(monkeypatch, temporal_namespace="hr-nowhere")
        code, checks, _ = await _doctor()
        wrong = checks["temporal"]
        assert code == 1 and wrong.status is doctor.Status.FAIL
        assert "namespace 'hr-nowhere' does not exist" in wrong.detail
        assert "HROPS_TEMPORAL_NAMESPACE" in (wrong.fix or "")
    finally:
        await env.shutdown()


def _downgrade_one(url: str) -> str:
    from tools.store.db import current_revision, downgrade

    downgrade(url, "-1")
    behind = current_revision(url)
    assert behind is not None
    return behind


def test_the_store_must_exist_and_be_migrated_and_doctor_never_migrates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.store.db import current_revision, head_revision, migrate

    db = tmp_path / "store" / "hrops.db"
    url = f"sqlite:///{db}"
    _env(monkeypatch, database_url=url)

    missing = doctor.check_database(get_settings())
    assert missing.status is doctor.Status.FAIL and "no HR store" in missing.detail
    assert "hrops db upgrade" in (missing.fix or "")
    assert not db.exists() and not db.parent.exists()  # not created by looking

    db.parent.mkdir()
    sqlite3.connect(db).close()  # a file, but no schema
    empty = doctor.check_database(get_settings())
    assert empty.status is doctor.Status.FAIL and "never migrated" in empty.detail
    assert "hrops db upgrade" in (empty.fix or "")

    migrate(url)
    assert doctor.check_database(get_settings()).status is doctor.Status.OK

    behind = _downgrade_one(url)
    late = doctor.check_database(get_settings())
    assert late.status is doctor.Status.FAIL
    assert f"1 migration behind: at {behind}, head is {head_revision()}" in late.detail
    assert late.fix == "run `hrops db upgrade`"
    assert current_revision(url) == behind  # doctor reported it and left it as it was


def test_an_unreachable_database_names_the_setting_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("psycopg")
    _env(monkeypatch, database_url=f"postgresql+psycopg://hr:{SECRET_KEY}@127.0.0.1:{_closed_port()}/hrops")
    down = doctor.check_database(get_settings())
    assert down.status is doctor.Status.FAIL and "cannot reach the HR store" in down.detail
    assert "HROPS_DATABASE_URL" in (down.fix or "") and SECRET_KEY not in down.detail


def test_a_browser_path_that_is_not_there_fails_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, browser_path=str(tmp_path / "no" / "chromium"))
    gone = doctor.check_browser(get_settings())
    assert gone.status is doctor.Status.FAIL and "HROPS_BROWSER_PATH" in gone.detail
    assert "`make browser`" in (gone.fix or "") and "playwright install chromium" in (gone.fix or "")

    plain = tmp_path / "chromium"
    plain.write_text("not a program")
    plain.chmod(0o644)
    _env(monkeypatch, browser_path=str(plain))
    stuck = doctor.check_browser(get_settings())
    assert stuck.status is doctor.Status.FAIL and "not executable" in stuck.detail


async def test_a_remote_model_endpoint_is_reached_without_a_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_openai({}) as (url, seen):
        _env(monkeypatch, model="openai:gpt-4o-mini", model_base_url=url, model_api_key=API_KEY)
        up = await doctor.check_model(get_settings())
    assert up.status is doctor.Status.OK and url in up.detail
    assert seen == []  # no completion was asked for: nothing about anyone left

    dead = f"http://127.0.0.1:{_closed_port()}/v1"
    _env(monkeypatch, model_base_url=dead)
    down = await doctor.check_model(get_settings())
    assert down.status is doctor.Status.FAIL and f"cannot reach {dead}" in down.detail
    assert "HROPS_MODEL_BASE_URL" in (down.fix or "")
    assert API_KEY not in down.model_dump_json() + up.model_dump_json()

    _env(monkeypatch, model_base_url=f"http://user:{API_KEY}@127.0.0.1:{_closed_port()}/v1")
    hidden = await doctor.check_model(get_settings())
    assert hidden.status is doctor.Status.FAIL and API_KEY not in hidden.detail


async def test_secret_files_open_to_others_warn_and_no_secret_is_ever_shown(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logins = _legacy_login(tmp_path, 0o644)
    key = get_settings().var_dir / "secret.key"
    key.parent.mkdir(parents=True, exist_ok=True)  # a Postgres store leaves var/ uncreated
    key.write_text(SECRET_KEY)
    key.chmod(0o640)
    env_file = tmp_path / ".env"  # the working directory of this test
    env_file.write_text(f"HROPS_MODEL_API_KEY={API_KEY}\n")
    env_file.chmod(0o644)
    _env(
        monkeypatch,
        temporal_address=f"127.0.0.1:{_closed_port()}",
        legacy_credentials_file=str(logins),
        legacy_sync='["classic_hris"]',
        model="openai:gpt-4o-mini",
        model_base_url=f"http://127.0.0.1:{_closed_port()}/v1",
    )
    code, checks, out = await _doctor()
    assert code == 1  # Temporal and the model endpoint are down
    for name, path, mode in (
        ("legacy logins", logins, "0644"),
        ("API signing key", key, "0640"),
        (".env file", env_file, "0644"),
    ):
        c = checks[name]
        assert c.status is doctor.Status.WARN and f"mode {mode}" in c.detail, c
        assert c.fix == f"chmod 600 {path}"
    assert not [s for s in SECRETS if s in out]

    logins.write_text(f"classic_hris: {{username: hr.robot, password: {LEGACY_PASSWORD}\n")  # unclosed
    broken = doctor.check_legacy_logins(get_settings())
    assert broken.status is doctor.Status.FAIL and "not valid YAML (line" in broken.detail
    assert LEGACY_PASSWORD not in broken.model_dump_json()

    logins.write_text("classic_hris:\n  username: hr.robot\n")
    half = doctor.check_legacy_logins(get_settings())
    assert half.status is doctor.Status.FAIL and "no username or password for classic_hris" in half.detail
    assert half.fix == "`hrops legacy login classic_hris`"
