"""policy section embeddings name the recipe they were made with, and may hold a long section's later
windows beside its head

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 05:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before name no recipe: they differ from every current one and are embedded again.
    with op.batch_alter_table("kb_section_vectors") as batch:
        batch.add_column(sa.Column("recipe", sa.String(length=100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("kb_section_vectors") as batch:
        batch.drop_column("recipe")
