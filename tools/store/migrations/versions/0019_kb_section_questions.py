"""policy sections keep the questions their author says they answer; a section's stored vectors say
how many of them are those questions

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 08:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kb_sections") as batch:
        batch.add_column(sa.Column("questions", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("kb_section_vectors") as batch:
        batch.add_column(sa.Column("asked", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("kb_section_vectors") as batch:
        batch.drop_column("asked")
    with op.batch_alter_table("kb_sections") as batch:
        batch.drop_column("questions")
