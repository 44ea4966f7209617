"""compliance review queue: model-written outputs sampled for review, with the reviewer's verdict

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("risk", sa.String(length=10), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("agent", sa.String(length=80), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.String(length=80), nullable=True),
        sa.Column("subject_employee_id", sa.String(length=20), nullable=True),
        sa.Column("endpoint", sa.String(length=200), nullable=True),
        sa.Column("prompt", sa.String(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("correction", sa.JSON(none_as_null=True), nullable=True),
        sa.CheckConstraint("risk IN ('low', 'medium', 'high')", name=op.f("ck_review_items_risk")),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'corrected')", name=op.f("ck_review_items_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("source", name=op.f("uq_review_items_source")),
    )
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_items_request_id"), ["request_id"], unique=False)
        batch_op.create_index("ix_review_items_queue", ["status", "topic"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_index("ix_review_items_queue")
        batch_op.drop_index(batch_op.f("ix_review_items_request_id"))
    op.drop_table("review_items")
