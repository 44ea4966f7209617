"""The HR store on Postgres in tests: a database per test, cloned from one migrated template per run.

The server is `HROPS_TEST_DATABASE_URL` (a server URL; its database is only used to connect) or a
local one on 127.0.0.1:5432. Every database a run creates is dropped at its end, the template too.

- `pg_url`: a migrated, empty Postgres store (skips, saying why, when no server answers).
- `store_url` (in conftest) is SQLite unless `HROPS_TEST_STORE=postgres` (`make test-postgres`
  runs the whole suite that way), or the test is marked `both_stores`: then it runs on each.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

SERVER = os.environ.get("HROPS_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
STORE = os.environ.get("HROPS_TEST_STORE", "sqlite")
if STORE not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"HROPS_TEST_STORE={STORE!r}: use sqlite or postgres")


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def server_problem() -> str | None:
    """Why no Postgres can be used for tests, or None when one answers."""
    try:
        engine = create_engine(SERVER, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as e:  # noqa: BLE001 - any failure to connect means: no server here
        return (
            f"no Postgres at {shown(SERVER)} ({type(e).__name__}); start one or set HROPS_TEST_DATABASE_URL"
        )
    return None


@dataclass
class PgServer:
    admin: Engine
    run: str
    template: str | None = None
    made: list[str] = field(default_factory=list)
    # Never reuse a dropped database's name: the product caches per URL (engines, set-up checks).
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str) -> str:
        return make_url(SERVER).set(database=database).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.made.append(name)
        return self.url(name)

    def new_store(self) -> str:
        """A migrated, empty store of its own: a copy of the run's template (migrated once)."""
        from tools.store.db import engine_for, migrate

        if self.template is None:
            name = f"{self.run}_template"
            url = self._create(name)
            migrate(url)
            engine_for(url).dispose()  # a template may have no other connections while it is copied
            self.template = name
        return self._create(f"{self.run}_{next(self.numbers)}", self.template)

    def drop(self, url: str) -> None:
        from tools.store.db import engine_for

        name = make_url(url).database
        engine_for(url).dispose()
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.made.remove(name)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if problem := server_problem():
        pytest.skip(problem)
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    server = PgServer(admin, f"hrops_test_{uuid.uuid4().hex[:8]}_{worker}")
    yield server
    for name in reversed(list(server.made)):
        server.drop(server.url(name))
    admin.dispose()


@pytest.fixture
def pg_url(pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated Postgres store of this test's own, also the settings' store (for workers too)."""
    from hrops.settings import reset_settings

    url = pg_server.new_store()
    monkeypatch.setenv("HROPS_DATABASE_URL", url)
    reset_settings()
    yield url
    pg_server.drop(url)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_stores: run the test on SQLite and on Postgres")
    config.addinivalue_line("markers", "sqlite_only: what the test checks exists only on SQLite")
    config.addinivalue_line("markers", "postgres: the test's HR store is on Postgres (set at collection)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_stores"):
        metafunc.parametrize("store_backend", ["sqlite", "postgres"], indirect=True)


def _on_postgres(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    if "pg_url" in names or "pg_server" in names:
        return True
    backend = getattr(item, "callspec", None) and item.callspec.params.get("store_backend")
    return "store_url" in names and (backend or STORE) == "postgres"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _on_postgres(item):
            item.add_marker("postgres")  # counted in the summary below
        if STORE == "postgres" and (marker := item.get_closest_marker("sqlite_only")):
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {marker.args[0] if marker.args else ''}"))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001, ARG001
    """Say plainly whether the Postgres path was tested, and against what."""
    stats = terminalreporter.stats
    ran = [r for r in stats.get("passed", []) + stats.get("failed", []) if "postgres" in r.keywords]
    skipped = [r for r in stats.get("skipped", []) if "no Postgres at" in str(getattr(r, "longrepr", ""))]
    if not ran and not skipped:
        return
    terminalreporter.write_sep("-", "HR store")
    if STORE == "postgres":
        terminalreporter.write_line("every test's HR store is on Postgres (HROPS_TEST_STORE=postgres)")
    if skipped:
        terminalreporter.write_line(
            f"POSTGRES NOT TESTED: {len(skipped)} tests skipped: {server_problem() or 'no server'}",
            red=True,
            bold=True,
        )
    if ran:
        terminalreporter.write_line(
            f"Postgres: {len(ran)} tests ran against {shown(SERVER)}, each on a database of its own, dropped after"
        )
