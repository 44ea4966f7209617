"""onboarding: equipment requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "equipment_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("employee_id", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("deliver_to", sa.String(length=60), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('requested', 'cancelled')", name=op.f("ck_equipment_requests_status")),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_equipment_requests_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_requests")),
        sa.UniqueConstraint("request_id", name=op.f("uq_equipment_requests_request_id")),
    )
    with op.batch_alter_table("equipment_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_requests_employee_id"), ["employee_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("equipment_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_requests_employee_id"))
    op.drop_table("equipment_requests")
