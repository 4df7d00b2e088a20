"""indexes for user listing, search and audit filters

Revision ID: de1aef50eee3
Revises: 587b51a2f0cf
Create Date: 2026-11-24 17:08:22.586763
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "de1aef50eee3"
down_revision: str | None = "587b51a2f0cf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Trigram indexes make ILIKE '%term%' searches fast; pg_trgm is a trusted extension.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_audit_logs_action_created_at_id",
        "audit_logs",
        ["action", "created_at", "id"],
        unique=False,
    )
    op.create_index("ix_users_created_at_id", "users", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_users_last_login_id",
        "users",
        [sa.literal_column("coalesce(last_login, '-infinity'::timestamptz)"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_users_search_trgm",
        "users",
        [
            sa.literal_column(
                "(email || ' ' || username || ' ' || first_name || ' ' || last_name) gin_trgm_ops"
            )
        ],
        unique=False,
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_users_search_trgm", table_name="users", postgresql_using="gin")
    op.drop_index("ix_users_last_login_id", table_name="users")
    op.drop_index("ix_users_created_at_id", table_name="users")
    op.drop_index("ix_audit_logs_action_created_at_id", table_name="audit_logs")
    # pg_trgm stays: other objects in the database may use it.
