"""leave records: time off booked and approved (or cancelled), for leave balances

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leave_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("employee_id", sa.String(length=20), nullable=False),
        sa.Column("leave_type", sa.String(length=20), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("days", sa.Numeric(5, 1), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "leave_type IN ('annual', 'sick', 'marriage', 'maternity', 'paternity', 'bereavement', "
            "'childcare', 'unpaid')",
            name=op.f("ck_leave_records_leave_type"),
        ),
        sa.CheckConstraint("status IN ('approved', 'cancelled')", name=op.f("ck_leave_records_status")),
        sa.CheckConstraint("days > 0", name=op.f("ck_leave_records_days")),
        sa.CheckConstraint("end_on >= start_on", name=op.f("ck_leave_records_dates")),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_leave_records_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_records")),
    )
    with op.batch_alter_table("leave_records", schema=None) as batch_op:
        batch_op.create_index("ix_leave_records_emp_start", ["employee_id", "start_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leave_records", schema=None) as batch_op:
        batch_op.drop_index("ix_leave_records_emp_start")
    op.drop_table("leave_records")
