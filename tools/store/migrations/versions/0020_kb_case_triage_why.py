"""a policy case keeps what made triage hand it on: the words a pattern matched, or the example the
question was nearest in meaning

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 13:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kb_cases") as batch:
        batch.add_column(sa.Column("triage_why", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kb_cases") as batch:
        batch.drop_column("triage_why")
