"""policy section embeddings for the hybrid search, one row per section and embedding model

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 16:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_section_vectors",
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["kb_sections.id"],
            name=op.f("fk_kb_section_vectors_section_id_kb_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model", "section_id", name=op.f("pk_kb_section_vectors")),
    )


def downgrade() -> None:
    op.drop_table("kb_section_vectors")
