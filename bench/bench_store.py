"""A throwaway HR store for the scale benchmarks: a SQLite file in a directory, or a Postgres
database of its own on a server (created here, dropped afterwards), and the machine's figures."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVER = os.environ.get("HROPS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
STORES = ("sqlite", "postgres")


class BenchSetupError(SystemExit):
    """A one-line reason the benchmark cannot run, and what to do about it."""


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def store(kind: str, workdir: Path) -> Iterator[str]:
    """The URL of an empty store of this kind; a Postgres database is dropped on the way out."""
    if kind == "sqlite":
        (workdir / "var").mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{workdir / 'var' / 'hrops.db'}"
        return
    if kind != "postgres":
        raise BenchSetupError(f"--store {kind!r}: use one of {', '.join(STORES)}")
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"hrops_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # noqa: BLE001 - any failure here means: no usable server
        raise BenchSetupError(
            f"cannot create a database on {_shown(SERVER)} ({type(e).__name__}); "
            "start Postgres or set HROPS_BENCH_DATABASE_URL to a server URL"
        ) from None
    try:  # FORCE: pooled connections of this process and of workers may still be open
        yield make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_version() -> str:
    try:
        engine = create_engine(SERVER, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
        return str(version).split()[0]
    except Exception:  # noqa: BLE001 - the figure is informational
        return "not reachable"


def machine() -> str:
    """nproc, RAM, Python, SQLite, Postgres and the load average when this run began."""
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {ram:.0f} GiB, {platform.system()}, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}, Postgres {postgres_version()}; load average {load}"
    )
