"""pay bands: base-pay range per level and location

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pay_bands",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("location", sa.String(length=60), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("min_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("mid_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("max_amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "min_amount > 0 AND min_amount <= mid_amount AND mid_amount <= max_amount",
            name=op.f("ck_pay_bands_order"),
        ),
        sa.CheckConstraint(
            "frequency IN ('annual', 'monthly', 'hourly')", name=op.f("ck_pay_bands_frequency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_bands")),
        sa.UniqueConstraint("level", "location", "valid_from", name="uq_pay_bands_level_location_day"),
    )


def downgrade() -> None:
    op.drop_table("pay_bands")
