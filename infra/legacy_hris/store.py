"""The stand-in's own SQLite file: what was entered, and an event log tests can count."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COLUMNS = [
    "empno",
    "surname",
    "given",
    "name_local",
    "dob",
    "sex",
    "natid",
    "dept",
    "pos",
    "start_dt",
    "emptype",
    "loc",
    "ot_flag",
    "grade",
    "salary",
    "ccy",
    "bank_acct",
    "pension",
    "addr1",
    "city",
    "postcode",
]

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS employees (
    ref TEXT PRIMARY KEY, {", ".join(f"{c} TEXT NOT NULL DEFAULT ''" for c in COLUMNS)},
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT, detail TEXT
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    def event(self, kind: str, ref: str | None = None, detail: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO events (at, kind, ref, detail) VALUES (?, ?, ?, ?)", (_now(), kind, ref, detail)
            )

    def create(self, values: dict[str, str]) -> str:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                n = self._db.execute("SELECT COUNT(*) FROM employees").fetchone()[0] + 1
                ref = f"HR-{n:06d}"
                cols = ["ref", *COLUMNS, "created_at", "updated_at"]
                row = [ref, *(values.get(c, "") for c in COLUMNS), _now(), _now()]
                self._db.execute(
                    f"INSERT INTO employees ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", row
                )
                self._db.execute("INSERT INTO events (at, kind, ref) VALUES (?, 'create', ?)", (_now(), ref))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ref

    def update(self, ref: str, values: dict[str, str]) -> None:
        cols = [c for c in values if c in COLUMNS]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    f"UPDATE employees SET {', '.join(f'{c} = ?' for c in cols)}, updated_at = ? WHERE ref = ?",
                    [*(values[c] for c in cols), _now(), ref],
                )
                self._db.execute("INSERT INTO events (at, kind, ref) VALUES (?, 'update', ?)", (_now(), ref))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def get(self, ref: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM employees WHERE ref = ?", (ref,)).fetchone()
        return dict(row) if row else None

    def search(self, q: str) -> list[dict[str, Any]]:
        like = f"%{q.lower()}%"
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM employees WHERE empno = ? OR lower(surname) LIKE ? OR lower(given) LIKE ? ORDER BY ref",
                (q, like, like),
            ).fetchall()
        return [dict(r) for r in rows]

    def duplicate_of(self, values: dict[str, str]) -> tuple[str, str] | None:
        """(field, ref) of an existing record this one duplicates: same number, or same name and birth date."""
        with self._lock:
            same_no = self._db.execute(
                "SELECT ref FROM employees WHERE empno = ?", (values["empno"],)
            ).fetchone()
            if same_no:
                return "empno", same_no[0]
            same_person = self._db.execute(
                "SELECT ref FROM employees WHERE lower(surname) = lower(?) AND lower(given) = lower(?) AND dob = ?",
                (values["surname"], values["given"], values["dob"]),
            ).fetchone()
        return ("surname", same_person[0]) if same_person else None

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute("SELECT * FROM employees ORDER BY ref").fetchall()]

    def stats(self) -> dict[str, int]:
        kinds = [
            "create",
            "update",
            "duplicate_rejected",
            "validation_error",
            "fault_500_before",
            "fault_500_after",
            "slow",
            "expired",
        ]
        with self._lock:
            counts = dict(self._db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())
        return {k: counts.get(k, 0) for k in kinds}

    def reset(self) -> None:
        with self._lock:
            self._db.executescript("DELETE FROM employees; DELETE FROM events;")
