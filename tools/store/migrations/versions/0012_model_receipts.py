"""egress receipts: what each model call sent, where, masked and let through

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=80), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("egress", sa.Boolean(), nullable=False),
        sa.Column("request_id", sa.String(length=40), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("allowed", sa.JSON(), nullable=False),
        sa.Column("masked", sa.JSON(), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("bytes_sent", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=True),
        sa.Column("output_tokens", sa.Integer(), nullable=True),
        sa.Column("prompt_sha256", sa.String(length=64), nullable=False),
        sa.Column("sent_text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_receipts")),
    )
    with op.batch_alter_table("model_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_model_receipts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_receipts_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_model_receipts_workflow_id"), ["workflow_id"], unique=False)


def downgrade() -> None:
    op.drop_table("model_receipts")
