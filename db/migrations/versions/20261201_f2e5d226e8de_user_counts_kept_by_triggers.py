"""user counts kept by triggers

Revision ID: f2e5d226e8de
Revises: 9cf222598148
Create Date: 2026-12-01 23:10:01.851302

`user_counts` holds how many users are in each (active, staff) bucket, "active" meaning
what the staff list's isActive filter means: is_active AND deleted_at IS NULL. It is
kept exact in the same transaction as every change to `users`:

- statement-level AFTER INSERT / UPDATE / DELETE triggers read the statement's
  transition tables and add the net change per bucket with one aggregate per
  statement (a 2,000-row seed batch is one upsert of at most four rows, not 2,000
  counter updates); buckets whose net change is zero are not written, so an UPDATE
  that leaves is_active, deleted_at and is_staff alone (a sign-in's last_login) locks
  no counter row;
- the buckets of one statement are upserted in a fixed order (active, staff), so two
  transactions changing the same buckets wait for each other on the rows (which is
  what keeps the counts exact) and never lock them in opposite orders;
- AFTER TRUNCATE empties the table (a bucket without a row counts as zero).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "f2e5d226e8de"
down_revision: str | None = "9cf222598148"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each branch is one aggregate over the statement's transition tables: the net change
# per bucket, written in a fixed order and only where it is non-zero.
CREATE_FUNCTIONS = (
    """
CREATE FUNCTION user_counts_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_counts AS c (active, staff, total)
        SELECT is_active AND deleted_at IS NULL, is_staff, count(*)
        FROM new_users
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (active, staff) DO UPDATE SET total = c.total + excluded.total;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO user_counts AS c (active, staff, total)
        SELECT active, staff, sum(delta)
        FROM (
            SELECT is_active AND deleted_at IS NULL, is_staff, 1 FROM new_users
            UNION ALL
            SELECT is_active AND deleted_at IS NULL, is_staff, -1 FROM old_users
        ) AS changes (active, staff, delta)
        GROUP BY active, staff
        HAVING sum(delta) <> 0
        ORDER BY active, staff
        ON CONFLICT (active, staff) DO UPDATE SET total = c.total + excluded.total;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO user_counts AS c (active, staff, total)
        SELECT is_active AND deleted_at IS NULL, is_staff, -count(*)
        FROM old_users
        GROUP BY 1, 2
        ORDER BY 1, 2
        ON CONFLICT (active, staff) DO UPDATE SET total = c.total + excluded.total;
    END IF;
    RETURN NULL;
END
$$""",
    """
CREATE FUNCTION user_counts_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_counts;
    RETURN NULL;
END
$$""",
)

# One trigger per event: each declares only the transition tables its event has.
CREATE_TRIGGERS = (
    "CREATE TRIGGER user_counts_after_insert AFTER INSERT ON users"
    " REFERENCING NEW TABLE AS new_users"
    " FOR EACH STATEMENT EXECUTE FUNCTION user_counts_after_change()",
    "CREATE TRIGGER user_counts_after_update AFTER UPDATE ON users"
    " REFERENCING OLD TABLE AS old_users NEW TABLE AS new_users"
    " FOR EACH STATEMENT EXECUTE FUNCTION user_counts_after_change()",
    "CREATE TRIGGER user_counts_after_delete AFTER DELETE ON users"
    " REFERENCING OLD TABLE AS old_users"
    " FOR EACH STATEMENT EXECUTE FUNCTION user_counts_after_change()",
    "CREATE TRIGGER user_counts_after_truncate AFTER TRUNCATE ON users"
    " FOR EACH STATEMENT EXECUTE FUNCTION user_counts_after_truncate()",
)


def upgrade() -> None:
    op.create_table(
        "user_counts",
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("staff", sa.Boolean(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("active", "staff", name=op.f("pk_user_counts")),
    )
    for statement in CREATE_FUNCTIONS:
        op.execute(statement)
    # No user is written between counting the existing rows and the triggers taking
    # over: the lock (which every INSERT, UPDATE and DELETE waits for) lasts until
    # this migration commits, and readers are not blocked.
    op.execute("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
    for statement in CREATE_TRIGGERS:
        op.execute(statement)
    op.execute(
        "INSERT INTO user_counts (active, staff, total) "
        "SELECT is_active AND deleted_at IS NULL, is_staff, count(*) "
        "FROM users GROUP BY 1, 2"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER user_counts_after_truncate ON users")
    op.execute("DROP TRIGGER user_counts_after_delete ON users")
    op.execute("DROP TRIGGER user_counts_after_update ON users")
    op.execute("DROP TRIGGER user_counts_after_insert ON users")
    op.execute("DROP FUNCTION user_counts_after_truncate()")
    op.execute("DROP FUNCTION user_counts_after_change()")
    op.drop_table("user_counts")
