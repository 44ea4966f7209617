"""Raw SQL: off by default, analysts and admins only, one checked SELECT on curated tables, capped and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import TODAY
from tools.analytics.engine import Refused
from tools.analytics.raw_sql import check, run
from tools.store.db import session_scope
from tools.store.identity import resolve_principal
from tools.store.models import AuditEntry, Employee


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM job_assignments", "only SELECT"),
        ("DROP TABLE employees", "only SELECT"),
        ("SELECT 1; SELECT 2", "one statement only"),
        ("SELECT * FROM employees", "the table employees is not open"),
        ("SELECT base_amount FROM compensation", "the table compensation is not open"),
        (
            "SELECT * FROM job_assignments j JOIN users u ON u.employee_id = j.employee_id",
            "the table users is not open",
        ),
        ("WITH x AS (DELETE FROM courses RETURNING *) SELECT * FROM x", "not"),
        ("SELECT load_extension('evil.so')", "load_extension is not allowed"),
        ("SELECT readfile('/etc/passwd')", "readfile is not allowed"),
        ("SELECT * FROM other.job_assignments", "only this database"),
        ("SELEKT nonsense", "only SELECT"),
        ("SELECT (", "not valid SQL"),
        ("PRAGMA table_info(employees)", "only SELECT"),
        ("ATTACH DATABASE 'x.db' AS x", "only SELECT"),
    ],
)
def test_anything_but_one_select_on_curated_tables_is_refused(sql: str, message: str) -> None:
    with pytest.raises(Refused, match=message):
        check(sql)


def test_analysts_get_rows_others_never_and_off_means_off(company: str) -> None:
    sql = "SELECT location, COUNT(*) AS n FROM job_assignments WHERE valid_to IS NULL GROUP BY location"
    with session_scope(company, write=True) as s:
        admin = resolve_principal(s, "admin", TODAY)
        li = resolve_principal(s, "li.wei", TODAY)
        with pytest.raises(Refused, match="switched off"):
            run(s, admin, sql, enabled=False)
        with pytest.raises(Refused, match="for analysts and admins only"):
            run(s, li, sql, enabled=True)
        result = run(s, admin, sql, enabled=True)
        with pytest.raises(Refused, match="employees is not open"):
            run(s, admin, "SELECT display_name FROM employees", enabled=True)
    assert result.columns == ["location", "n"] and result.rows == [["Shanghai", 4]]
    with session_scope(company) as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "analytics.raw_sql"))
        assert s.scalar(select(Employee).where(Employee.id == "E1003")) is not None  # nothing was changed
    assert entry.details == {"tables": ["job_assignments"], "rows": 1} and entry.actor == "admin"
