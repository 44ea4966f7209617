"""Postgres row-level security for analytics: the second line behind the compiler's scope filter.

Inside `limited_to(session, org_ids)` statements run as `hrops_scoped_reader`, which sees people
only through the policies of migration 0014 (a job held in one of `org_ids`). Outside it, and on
SQLite, nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

ROLE = "hrops_scoped_reader"


@contextmanager
def limited_to(session: Session, org_ids: frozenset[int] | None) -> Iterator[None]:
    """Run the block's statements as the scoped reader of `org_ids` (None: the whole company)."""
    conn = session.connection()
    if org_ids is None or conn.dialect.name != "postgresql":
        yield
        return
    # Transaction-local: a statement that fails aborts the transaction, which ends both settings.
    conn.execute(
        text("SELECT set_config('hrops.scope_units', :units, true)"),
        {"units": ",".join(str(i) for i in sorted(org_ids))},
    )
    conn.exec_driver_sql(f"SET LOCAL ROLE {ROLE}")
    yield
    conn.exec_driver_sql("RESET ROLE")  # the rest of the transaction (audit, releases) as the store's user
