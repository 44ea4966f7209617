"""analytics row-level security on Postgres: a read-only role that sees only the asker's org units

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 09:00:00.000000

A manager's or HRBP's analytics statements run as `hrops_scoped_reader` with the org unit ids of
their scope in the transaction setting `hrops.scope_units`. The compiler already filters by scope;
these policies are the second line: a statement that forgot its filter still reads only people who
have held a job in those units. SQLite has no row security: nothing to do there.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ROLE = "hrops_scoped_reader"
OPEN = ("org_units", "courses")  # no personal data: readable whole
BY_UNIT = "job_assignments"
BY_EMPLOYEE = ("compensation", "employee_addresses", "learning_records", "employee_facts")
IN_SCOPE = f"SELECT j.employee_id FROM {BY_UNIT} j WHERE j.org_unit_id = ANY (hrops_scope_units())"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Roles belong to the server, not the database: another store on it may have made this one.
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') "
        f"THEN CREATE ROLE {ROLE} NOLOGIN; END IF; END $$"
    )
    op.execute(f"GRANT {ROLE} TO CURRENT_USER")  # so the store's own user may SET ROLE to it
    op.execute(f"GRANT USAGE ON SCHEMA {_schema()} TO {ROLE}")
    # No setting (or an empty one) means no units: the role then sees no one.
    op.execute(
        "CREATE OR REPLACE FUNCTION hrops_scope_units() RETURNS integer[] LANGUAGE sql STABLE AS "
        "$$ SELECT coalesce(string_to_array(nullif(current_setting('hrops.scope_units', true), ''), "
        "',')::integer[], '{}') $$"
    )
    op.execute(f"GRANT EXECUTE ON FUNCTION hrops_scope_units() TO {ROLE}")
    for table in (*OPEN, BY_UNIT, "employees", *BY_EMPLOYEE):
        op.execute(f"GRANT SELECT ON {table} TO {ROLE}")
    _policy(BY_UNIT, "org_unit_id = ANY (hrops_scope_units())")
    _policy("employees", f"id IN ({IN_SCOPE})")
    for table in BY_EMPLOYEE:
        _policy(table, f"employee_id IN ({IN_SCOPE})")


def _schema() -> str:
    return op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()


def _policy(table: str, using: str) -> None:
    # Policies name only the scoped role: the store's own user (the table owner) is not limited.
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY scoped_read ON {table} FOR SELECT TO {ROLE} USING ({using})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (BY_UNIT, "employees", *BY_EMPLOYEE):
        op.execute(f"DROP POLICY IF EXISTS scoped_read ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for table in (*OPEN, BY_UNIT, "employees", *BY_EMPLOYEE):
        op.execute(f"REVOKE SELECT ON {table} FROM {ROLE}")
    op.execute("DROP FUNCTION IF EXISTS hrops_scope_units()")
    op.execute(f"REVOKE USAGE ON SCHEMA {_schema()} FROM {ROLE}")
    # The role stays: other stores on this server may use it.
