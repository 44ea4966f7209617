"""Engine and sessions for SQLite (WAL, under var/) and Postgres, with the same code for both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
WRITE_OPTION = "hrops_write"
READ_OPTION = "hrops_read"
BUSY_TIMEOUT_S = 15  # how long a SQLite writer waits for another process's write lock


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    # WAL lets the API and workers read while one of them writes; busy_timeout waits for the lock
    # instead of failing at once when two processes write together.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cur.close()


def _sqlite_begin(conn) -> None:  # noqa: ANN001 - SQLAlchemy Connection
    # A write transaction takes the write lock at BEGIN, so it waits (busy_timeout) for another
    # writer instead of failing when it upgrades from reading to writing.
    options = conn.get_execution_options()
    # Read sessions are read-only in the database itself: a read tool that writes fails loudly.
    conn.exec_driver_sql(f"PRAGMA query_only={'ON' if options.get(READ_OPTION) else 'OFF'}")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(WRITE_OPTION) else "BEGIN")


def busy_message(e: BaseException) -> str | None:
    """One line for people when `e` is the store locked by another writer for longer than the
    busy timeout (that transaction was rolled back), else None. The driver's own message is not
    used: it quotes the SQL and its parameters."""
    from sqlalchemy.exc import OperationalError

    if isinstance(e, OperationalError) and "locked" in str(e.orig).lower():
        return (
            f"the HR store has been locked by another process (an import, a backup?) for more than "
            f"{BUSY_TIMEOUT_S} s: try again in a minute (a repeated request is not done twice)"
        )
    return None


def create_store_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    return create_store_engine(url)


@lru_cache(maxsize=16)
def _session_factory(url: str, write: bool) -> sessionmaker[Session]:
    engine = engine_for(url)
    mode = {WRITE_OPTION: True} if write else {READ_OPTION: True}
    return sessionmaker(engine.execution_options(**mode), expire_on_commit=False)


@contextmanager
def session_scope(url: str, *, write: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any exception.
    Pass `write=True` for transactions that change data."""
    with _session_factory(url, write).begin() as session:
        if not write and session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET TRANSACTION READ ONLY"))
        yield session


# Every serial/identity column of the public schema, with its sequence.
_SEQUENCES = text(
    "SELECT c.table_name, c.column_name, pg_get_serial_sequence(quote_ident(c.table_name), c.column_name)"
    " FROM information_schema.columns c WHERE c.table_schema = current_schema()"
    " AND pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) IS NOT NULL"
)


def advance_sequences(conn: Connection | Session) -> None:
    """After rows were inserted with explicit ids (seeding, copying a store): move every id
    sequence past the largest id, else Postgres hands out an id that is taken and the next plain
    insert fails. SQLite needs nothing (it takes max(id) + 1)."""
    bind = conn.get_bind() if isinstance(conn, Session) else conn
    if bind.dialect.name != "postgresql":
        return
    for table, column, sequence in conn.execute(_SEQUENCES).all():
        conn.execute(
            text(f'SELECT setval(:seq, coalesce((SELECT max("{column}") FROM "{table}"), 0) + 1, false)'),
            {"seq": sequence},
        )


def alembic_config():  # noqa: ANN201 - alembic.config.Config, imported here: most commands never migrate
    """The store's migrations, for alembic commands and its script directory."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _alembic(url: str, *steps: tuple[str, str]) -> None:
    """Run alembic `(command, revision)` steps on `url`, in one transaction."""
    from alembic import command

    cfg = alembic_config()
    with engine_for(url).begin() as conn:
        cfg.attributes["connection"] = conn
        for name, revision in steps:
            getattr(command, name)(cfg, revision)


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent)."""
    _alembic(url, ("upgrade", revision))


def downgrade(url: str, revision: str) -> None:
    """Take the schema back to `revision` (`-1`: one step); tests and recovery only."""
    _alembic(url, ("downgrade", revision))


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine_for(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def reset_schema(url: str) -> None:
    """Drop every table (and the audit triggers) through the migrations, then migrate again.
    Destroys all data: only `hrops seed --reset` calls it."""
    _alembic(url, ("downgrade", "base"), ("upgrade", "head"))
