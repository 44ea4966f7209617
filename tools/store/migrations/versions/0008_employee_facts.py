"""employee facts: numbers an imported file states about each employee on the day it was taken

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employee_facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("employee_id", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Numeric(14, 4), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_employee_facts_employee_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employee_facts")),
        sa.UniqueConstraint("employee_id", "name", "as_of", name="uq_employee_facts_employee_name_day"),
    )
    with op.batch_alter_table("employee_facts", schema=None) as batch_op:
        batch_op.create_index("ix_employee_facts_name_day", ["name", "as_of"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("employee_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_employee_facts_name_day")
    op.drop_table("employee_facts")
