"""What someone with write access to the database could do to the audit log: take its guards off."""

from __future__ import annotations

from sqlalchemy import Connection


def drop_audit_guards(conn: Connection) -> None:
    """Drop the triggers that refuse edits and deletes of audit entries (SQLite's two, or
    Postgres's one): what is left to catch tampering is the hash chain."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        return
    for trigger in ("audit_log_no_update", "audit_log_no_delete"):
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
