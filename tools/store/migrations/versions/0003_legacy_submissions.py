"""journal of creates sent to legacy systems (in-doubt submits)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legacy_submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("system", sa.String(length=60), nullable=False),
        sa.Column("form", sa.String(length=60), nullable=False),
        sa.Column("employee_id", sa.String(length=20), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("reference", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_submissions")),
    )
    with op.batch_alter_table("legacy_submissions", schema=None) as batch_op:
        batch_op.create_index("ix_legacy_submissions_record", ["system", "form", "employee_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("legacy_submissions", schema=None) as batch_op:
        batch_op.drop_index("ix_legacy_submissions_record")
    op.drop_table("legacy_submissions")
