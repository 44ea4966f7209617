"""HR policy knowledge base: imported document versions, their citable sections, the questions
handed to HR ops (cases) and HR answers saved for reuse (corrections)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("doc_id", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("source_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("language IN ('en', 'zh')", name=op.f("ck_kb_documents_language")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_documents")),
        sa.UniqueConstraint("doc_id", "version", name="uq_kb_documents_doc_version"),
    )
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_documents_doc_id"), ["doc_id"], unique=False)
    op.create_table(
        "kb_sections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("anchor", sa.String(length=120), nullable=False),
        sa.Column("heading", sa.String(length=300), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["kb_documents.id"], name=op.f("fk_kb_sections_document_id_kb_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_sections")),
        sa.UniqueConstraint("document_id", "anchor", name="uq_kb_sections_document_anchor"),
    )
    with op.batch_alter_table("kb_sections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_sections_document_id"), ["document_id"], unique=False)
    op.create_table(
        "kb_corrections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("cites", sa.JSON(), nullable=False),
        sa.Column("answered_by", sa.String(length=80), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_corrections")),
    )
    op.create_table(
        "kb_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("asker", sa.String(length=80), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("asker_scope", sa.JSON(), nullable=False),
        sa.Column("retrieved", sa.JSON(), nullable=False),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by", sa.String(length=80), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("correction_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'answered')", name=op.f("ck_kb_cases_status")),
        sa.CheckConstraint(
            "reason IN ('sensitive', 'person', 'unsupported', 'low_confidence')",
            name=op.f("ck_kb_cases_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["correction_id"], ["kb_corrections.id"], name=op.f("fk_kb_cases_correction_id_kb_corrections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_cases")),
    )
    with op.batch_alter_table("kb_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_cases_asker"), ["asker"], unique=False)
        batch_op.create_index("ix_kb_cases_queue", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kb_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_cases_queue")
        batch_op.drop_index(batch_op.f("ix_kb_cases_asker"))
    op.drop_table("kb_cases")
    op.drop_table("kb_corrections")
    with op.batch_alter_table("kb_sections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_sections_document_id"))
    op.drop_table("kb_sections")
    with op.batch_alter_table("kb_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_documents_doc_id"))
    op.drop_table("kb_documents")
