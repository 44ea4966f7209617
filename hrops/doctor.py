"""`hrops doctor`: check a deployment and say what to fix, one check per line.

Read-only by design: it never migrates the store, never creates the SQLite file, the API key or a
secrets file, and never prints a secret (keys and passwords are only tested for presence and file
modes; URLs are shown without their credentials). Every network check gives up after TIMEOUT s.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Awaitable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, computed_field
from temporalio.client import Client

from hrops.settings import Settings

TIMEOUT = 3.0
NOT_CHECKED = "not checked: see the temporal check"
OFFLINE = "offline"  # agents/models.py: the built-in model, nothing to reach
T = TypeVar("T")

# Where an OpenAI-compatible provider named in HROPS_MODEL lives when HROPS_MODEL_BASE_URL is unset:
# the environment variable pydantic-ai reads, else its default. Others authenticate differently.
PROVIDER_URLS = {
    "openai": ("OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "ollama": ("OLLAMA_BASE_URL", "http://localhost:11434/v1"),
    "deepseek": ("DEEPSEEK_BASE_URL", "https://api.deepseek.com"),
    "mistral": ("MISTRAL_BASE_URL", "https://api.mistral.ai/v1"),
    "groq": ("GROQ_BASE_URL", "https://api.groq.com/openai/v1"),
}


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


class Check(BaseModel):
    name: str
    status: Status
    detail: str
    fix: str | None = None


class Report(BaseModel):
    checks: list[Check]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return all(c.status is not Status.FAIL for c in self.checks)


def _ok(name: str, detail: str) -> Check:
    return Check(name=name, status=Status.OK, detail=detail)


def _warn(name: str, detail: str, fix: str | None = None) -> Check:
    return Check(name=name, status=Status.WARN, detail=detail, fix=fix)


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name=name, status=Status.FAIL, detail=detail, fix=fix)


async def _within(call: Awaitable[T]) -> T:
    return await asyncio.wait_for(call, TIMEOUT)


# -- Temporal ------------------------------------------------------------------------------------


async def check_temporal(settings: Settings) -> tuple[Client | None, Check]:
    """Reachable at the configured address, and the namespace exists there."""
    from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
    from temporalio.service import RPCError, RPCStatusCode

    from hrops.temporal_client import TemporalUnavailable, connect

    target, ns = settings.temporal_target, settings.temporal_namespace
    try:
        client = await _within(connect(settings))
    except (TemporalUnavailable, TimeoutError) as e:
        why = f"no answer within {TIMEOUT:.0f} s" if isinstance(e, TimeoutError) else "connection failed"
        fix = (
            "start it with `hrops up`, or point HROPS_TEMPORAL_ADDRESS at your cluster "
            f"(the embedded server listens on HROPS_TEMPORAL_HOST:HROPS_TEMPORAL_PORT = {target})"
            if settings.embedded_temporal
            else f"check HROPS_TEMPORAL_ADDRESS (now {target}): host and port of the cluster's frontend"
        )
        return None, _fail("temporal", f"cannot reach Temporal at {target} ({why})", fix)
    try:
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=ns), timeout=timedelta(seconds=TIMEOUT)
        )
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            return None, _fail(
                "temporal",
                f"namespace {ns!r} does not exist at {target}",
                "create it with `hrops temporal setup`, or set HROPS_TEMPORAL_NAMESPACE to an existing one",
            )
        return None, _fail(
            "temporal",
            f"{target} refused to describe namespace {ns!r} ({e.status.name})",
            "check HROPS_TEMPORAL_NAMESPACE and this client's permissions on the cluster",
        )
    return client, _ok("temporal", f"reachable at {target}, namespace {ns}")


async def check_search_attributes(settings: Settings, client: Client | None) -> Check:
    from workflows import search_attributes as sa

    if client is None:
        return _warn("search attributes", NOT_CHECKED)
    ns = settings.temporal_namespace
    try:
        missing = await _within(sa.missing(client, ns))
    except Exception as e:  # noqa: BLE001 - any refusal of the cluster is the answer here
        return _warn("search attributes", f"could not list them ({type(e).__name__})")
    if not missing:
        return _ok("search attributes", f"all {len(sa.ALL)} registered in {ns}")
    return _fail(
        "search attributes",
        f"missing in namespace {ns}: {', '.join(missing)} (approval inboxes and request lookups need them)",
        "run `hrops temporal setup` (registers them; `hrops up` does it for the embedded server)",
    )


# Which task type shows each queue's workers: the main queue runs workflows, the RPA queue only activities.
def _queues() -> list[tuple[str, int]]:
    from temporalio.api.enums.v1 import TaskQueueType

    from workflows import task_queues

    return [
        (task_queues.MAIN, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        (task_queues.RPA, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ]


async def check_workers(settings: Settings, client: Client | None) -> list[Check]:
    """Workers polling each task queue (Temporal remembers pollers for a few minutes)."""
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    out = []
    for queue, kind in _queues():
        name = f"workers {queue}"
        if client is None:
            out.append(_warn(name, NOT_CHECKED))
            continue
        try:
            resp = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=settings.temporal_namespace,
                    task_queue=TaskQueue(name=queue),
                    task_queue_type=kind,
                ),
                timeout=timedelta(seconds=TIMEOUT),
            )
        except Exception as e:  # noqa: BLE001
            out.append(_warn(name, f"could not describe the task queue ({type(e).__name__})"))
            continue
        if resp.pollers:
            out.append(_ok(name, f"{len(resp.pollers)} polling"))
        else:
            out.append(
                _warn(
                    name,
                    f"no worker polls {queue}: its work waits until one does",
                    f"start one: `hrops worker --queue {queue}` (or `hrops up`)",
                )
            )
    return out


# -- the HR store --------------------------------------------------------------------------------


def check_database(settings: Settings) -> Check:
    """Reachable and migrated to head. Reads the Alembic revision on its own engine: the product's
    engine would create a missing SQLite file and set pragmas."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from tools.store.db import alembic_config

    url = make_url(settings.db_url)
    shown = url.render_as_string(hide_password=True)
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and url.database and url.database != ":memory:" and not Path(url.database).exists():
        return _fail(
            "database",
            f"no HR store at {url.database}",
            "run `hrops db upgrade` (creates and migrates it), or set HROPS_DATABASE_URL",
        )
    args = {} if sqlite else {"connect_timeout": int(TIMEOUT)}
    engine = create_engine(url, poolclass=NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or type(e).__name__).strip().splitlines()[0][:200]
        if url.password:
            reason = reason.replace(str(url.password), "***")
        return _fail(
            "database",
            f"cannot reach the HR store at {shown}: {reason}",
            "check HROPS_DATABASE_URL and that the database server is up",
        )
    finally:
        engine.dispose()
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if current == head:
        return _ok("database", f"{shown}, migrated to head ({head})")
    if current is None:
        return _fail("database", f"{shown} has no schema (never migrated)", "run `hrops db upgrade`")
    known = {r.revision for r in script.walk_revisions()}
    if current not in known:
        return _fail(
            "database",
            f"{shown} is at revision {current}, which this version of hrops does not know",
            "run the hrops version that migrated it (a newer one?); never downgrade the store by hand",
        )
    behind = sum(1 for _ in script.iterate_revisions(head, current))  # head down to, not incl., current
    return _fail(
        "database",
        f"{shown} is {behind} migration{'s' if behind != 1 else ''} behind: at {current}, head is {head}",
        "run `hrops db upgrade`",
    )


# -- the browser for RPA -------------------------------------------------------------------------


def _playwright_chromium() -> Path | None:
    """Playwright's own Chromium (`playwright install chromium`), which tools/browser.py falls back to."""
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    found = sorted(p for p in Path(root).glob("chromium*") if p.is_dir() and any(p.iterdir()))
    return found[-1] if found else None


BROWSER_FIX = "`make browser` installs one (or `playwright install chromium`); or set HROPS_BROWSER_PATH"


def check_browser(settings: Settings) -> Check:
    if path := settings.browser_path:
        if not path.exists():
            return _fail(
                "browser",
                f"HROPS_BROWSER_PATH={path} does not exist",
                f"fix or unset HROPS_BROWSER_PATH; {BROWSER_FIX.split(';')[0]}",
            )
        if not os.access(path, os.X_OK):
            return _fail("browser", f"HROPS_BROWSER_PATH={path} is not executable", f"chmod +x {path}")
        return _ok("browser", f"{path} (HROPS_BROWSER_PATH)")
    if found := settings.browser():
        return _ok("browser", f"{found} (on PATH)")
    if own := _playwright_chromium():
        return _ok("browser", f"Playwright's own Chromium ({own})")
    return _warn(
        "browser",
        "no Chromium on PATH nor from Playwright: RPA workers (legacy systems) cannot run on this machine",
        BROWSER_FIX,
    )


# -- the model endpoint --------------------------------------------------------------------------


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def check_model(settings: Settings) -> Check:
    """A cheap GET of the endpoint's /models: no prompt, no HR data; the key only as a header."""
    import httpx

    if settings.model == OFFLINE:
        return _ok("model endpoint", "offline model, nothing to reach")
    if settings.model == "test":
        return _ok("model endpoint", "the built-in test model, nothing to reach")
    provider = settings.model.split(":", 1)[0]
    env, default = PROVIDER_URLS.get(provider, ("", None))
    base = settings.model_base_url or (env and os.environ.get(env)) or default
    if base is None:
        return _warn(
            "model endpoint",
            f"not checked: where provider {provider!r} of HROPS_MODEL lives is not known here",
            "set HROPS_MODEL_BASE_URL to its endpoint to have it checked",
        )
    shown = _without_credentials(base)
    setting = "HROPS_MODEL_BASE_URL" if settings.model_base_url else "HROPS_MODEL"
    key = settings.model_api_key.get_secret_value() if settings.model_api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.get(base.rstrip("/") + "/models", headers=headers)
    except httpx.HTTPError as e:
        return _fail(
            "model endpoint",
            f"cannot reach {shown} within {TIMEOUT:.0f} s ({type(e).__name__})",
            f"check {setting} and that the model server is up (agents cannot run until it answers)",
        )
    if answer.status_code in (401, 403):
        return _fail(
            "model endpoint",
            f"{shown} refused the API key (HTTP {answer.status_code})",
            "check HROPS_MODEL_API_KEY",
        )
    return _ok("model endpoint", f"{shown} answers (HTTP {answer.status_code} for /models)")


# -- secrets -------------------------------------------------------------------------------------


def _too_open(path: Path) -> str | None:
    """Who besides the owner may read or write the file, when anyone may."""
    mode = stat.S_IMODE(path.stat().st_mode)
    who = [w for w, bits in (("its group", 0o060), ("everyone", 0o006)) if mode & bits]
    return f"open to {' and '.join(who)} (mode {mode:04o})" if who else None


def _read(name: str, path: Path) -> tuple[bytes | None, Check | None]:
    try:
        return path.read_bytes(), None
    except OSError as e:
        return None, _fail(
            name,
            f"cannot read {path} ({e.strerror or type(e).__name__})",
            f"run hrops as the user that owns {path}, or fix its owner (chown)",
        )


def _modes(name: str, path: Path, ok: str) -> Check:
    if problem := _too_open(path):
        return _warn(name, f"{path}: {problem}", f"chmod 600 {path}")
    return _ok(name, ok)


def check_api_key(settings: Settings) -> Check:
    """The key that signs API tokens (hrops/api/auth.py): HROPS_SECRET_KEY or <var_dir>/secret.key."""
    name = "API signing key"
    if settings.secret_key:
        if len(settings.secret_key.get_secret_value()) < 32:
            return _warn(
                name,
                "HROPS_SECRET_KEY is shorter than 32 characters",
                "use a long random key: `python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
        return _ok(name, "from HROPS_SECRET_KEY")
    path = settings.var_dir / "secret.key"
    if not path.exists():
        return _ok(name, f"none yet: the API creates {path} (mode 0600) when it first signs a token")
    data, failed = _read(name, path)
    if failed:
        return failed
    if not (data or b"").strip():
        return _fail(
            name, f"{path} is empty", f"delete {path} (a new key is made; issued tokens stop working)"
        )
    return _modes(name, path, f"{path}")


def _env_login(system: str) -> bool:
    prefix = f"HROPS_LEGACY_{system.upper()}_"
    return bool(os.environ.get(prefix + "USERNAME") and os.environ.get(prefix + "PASSWORD"))


def check_legacy_logins(settings: Settings) -> Check:
    """The legacy credentials file (tools/legacy/credentials.py), and a login for every synced system."""
    import yaml

    name = "legacy logins"
    path = settings.credentials_file
    entries: dict[str, object] = {}
    if path.exists():
        data, failed = _read(name, path)
        if failed:
            return failed
        try:
            parsed = yaml.safe_load(data or b"") or {}
        except yaml.YAMLError as e:  # its message may quote the file: only the line is shown
            mark = getattr(e, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            return _fail(
                name,
                f"{path} is not valid YAML{where}",
                "fix it, or write it again: `hrops legacy login SYSTEM`",
            )
        if not isinstance(parsed, dict):
            return _fail(
                name,
                f"{path} is not a mapping of system: {{username, password}}",
                "`hrops legacy login SYSTEM`",
            )
        entries = parsed
        broken = sorted(
            str(s)
            for s, e in entries.items()
            if not (isinstance(e, dict) and e.get("username") and e.get("password"))
        )
        if broken:
            return _fail(
                name,
                f"{path}: no username or password for {', '.join(broken)}",
                f"`hrops legacy login {broken[0]}`",
            )
    elif settings.legacy_credentials_file:
        return _fail(
            name,
            f"HROPS_LEGACY_CREDENTIALS_FILE={path} does not exist",
            "fix the setting, or store a login there: `hrops legacy login SYSTEM`",
        )
    without = [s for s in settings.legacy_sync if s not in entries and not _env_login(s)]
    if without:
        return _warn(
            name,
            f"no login for {', '.join(without)} (HROPS_LEGACY_SYNC pushes to it)",
            f"`hrops legacy login {without[0]}`, or set HROPS_LEGACY_{without[0].upper()}_USERNAME and _PASSWORD",
        )
    if not path.exists():
        return _ok(name, "no credentials file; no synced system needs one")
    systems = ", ".join(sorted(map(str, entries))) or "none"
    return _modes(name, path, f"{path} (logins for {systems})")


SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD")


def check_env_file() -> Check | None:
    """A `.env` beside the product holding secrets should be private too (only when there is one)."""
    path = Path(".env").resolve()
    if not path.is_file():
        return None
    data, failed = _read(".env file", path)
    if failed:
        return failed
    names = [
        line.split("=", 1)[0].strip()
        for line in (data or b"").decode("utf-8", "replace").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    ]
    if not any(w in n.upper() for n in names for w in SECRET_WORDS):
        return _ok(".env file", f"{path} (no secrets in it)")
    return _modes(".env file", path, f"{path}")


# -- all of them ---------------------------------------------------------------------------------


async def run(settings: Settings) -> Report:
    """Every check, in the order an operator fixes things."""
    client, temporal = await check_temporal(settings)
    checks = [temporal, await check_search_attributes(settings, client)]
    checks.append(await asyncio.to_thread(check_database, settings))
    checks.append(check_browser(settings))
    checks.append(await check_model(settings))
    checks += [check_api_key(settings), check_legacy_logins(settings)]
    if env := check_env_file():
        checks.append(env)
    checks += await check_workers(settings, client)
    return Report(checks=checks)
