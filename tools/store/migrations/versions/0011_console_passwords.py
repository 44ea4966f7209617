"""web console: a password hash per user (scrypt; empty: cannot sign in to the console)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops columns itself): a batch copy of `users` would trip the
    # foreign keys of the tables that name a user.
    op.drop_column("users", "password_hash")
