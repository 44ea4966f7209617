"""Raw SQL for analysts, only when enabled (`HROPS_ANALYTICS_RAW_SQL=true`) and only for the roles
that see everything anyway: one SELECT, parsed by sqlglot and checked against an allow-list before
it runs (no DML or DDL, no INTO, no data-modifying CTE, no file, extension or admin functions, only
the curated tables), with a row cap and a timeout, audited. Everyone else never gets raw SQL.

The curated tables hold no personal values: org units, job assignments, courses, learning records,
pay bands. Names, addresses, national ids and pay stay out of reach."""

from __future__ import annotations

import sqlglot
from pydantic import BaseModel
from sqlalchemy.orm import Session
from sqlglot import exp

from tools.analytics.engine import ROW_CAP, TIMEOUT_S, Refused, deadline
from tools.store import audit
from tools.store.identity import Principal
from tools.store.models import Role

CURATED = frozenset({"org_units", "job_assignments", "courses", "learning_records", "pay_bands"})
RAW_SQL_ROLES = frozenset({Role.ADMIN, Role.COMP_ANALYST})
FORBIDDEN_NODES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,  # PRAGMA, ATTACH, VACUUM, SET ... arrive as commands
    exp.Into,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
)
FORBIDDEN_FUNCTIONS = frozenset(
    {
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "fts3_tokenizer",
        "pg_read_file",
        "pg_read_binary_file",
        "pg_ls_dir",
        "pg_sleep",
        "dblink",
        "lo_import",
        "lo_export",
        "set_config",
        "current_setting",
        "randomblob",
        "zeroblob",
    }
)


class RawResult(BaseModel):
    columns: list[str]
    rows: list[list[object]]
    truncated: bool


def check(sql: str, dialect: str = "sqlite") -> exp.Expression:
    """The parsed statement, or Refused saying what is not allowed."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except sqlglot.errors.ParseError as e:
        raise Refused(f"not valid SQL: {str(e).splitlines()[0]}") from None
    if len(statements) != 1:
        raise Refused(f"one statement only (got {len(statements)})")
    stmt = statements[0]
    if not isinstance(stmt, exp.Query):
        raise Refused(f"only SELECT is allowed (got {stmt.key.upper()})")
    for node in stmt.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise Refused(f"{node.key.upper()} is not allowed in a query")
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
            if name in FORBIDDEN_FUNCTIONS:
                raise Refused(f"the function {name} is not allowed")
    ctes = {c.alias_or_name.lower() for c in stmt.find_all(exp.CTE)}
    for table in stmt.find_all(exp.Table):
        name = table.name.lower()
        if table.db or table.catalog:
            raise Refused(f"{table.sql()}: only this database's curated tables")
        if name not in CURATED and name not in ctes:
            raise Refused(
                f"the table {name} is not open to SQL; curated tables: {', '.join(sorted(CURATED))}"
            )
    return stmt


def run(session: Session, who: Principal, sql: str, enabled: bool) -> RawResult:
    if not enabled:
        raise Refused("raw SQL is switched off (HROPS_ANALYTICS_RAW_SQL); ask in words instead")
    if not who.has(*RAW_SQL_ROLES):
        raise Refused("raw SQL is for analysts and admins only; ask in words instead")
    dialect = "postgres" if session.bind and session.bind.dialect.name == "postgresql" else "sqlite"
    stmt = check(sql, dialect)
    capped = exp.select("*").from_(stmt.subquery("q")).limit(ROW_CAP + 1).sql(dialect=dialect)
    with deadline(session, TIMEOUT_S):
        # Driver-level: a ':' inside a string literal is not a bind parameter.
        result = session.connection().exec_driver_sql(capped)
        columns = list(result.keys())
        rows = [list(r) for r in result.fetchall()]
    audit.append(
        session,
        audit.AuditEvent(
            actor=who.username,
            action="analytics.raw_sql",
            details={
                "tables": sorted({t.name.lower() for t in stmt.find_all(exp.Table)}),
                "rows": min(len(rows), ROW_CAP),
            },
        ),
    )
    return RawResult(columns=columns, rows=rows[:ROW_CAP], truncated=len(rows) > ROW_CAP)
