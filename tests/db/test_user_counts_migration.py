"""The user_counts migration: it counts the users that exist when it runs, its triggers
keep the counts from then on, and its downgrade leaves no table, trigger or function."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from db.upgrade import alembic_config
from tests.conftest import TEST_DB
from tests.support.services import find_or_start_postgres, recreate_database

USER_COUNTS = "f2e5d226e8de"
BEFORE_USER_COUNTS = "9cf222598148"

# Users in every bucket, the half-deactivated kinds included.
INSERT_USERS = """
INSERT INTO users (id, email, username, password_hash, first_name, last_name,
                   is_active, is_staff, deleted_at)
SELECT gen_random_uuid(), 'u' || n || '@example.com', 'u' || n, 'x', '', '',
       n % 3 <> 0, n % 5 = 0, CASE WHEN n % 7 = 0 THEN now() END
FROM generate_series(1, 500) AS n
"""
KEPT = "SELECT active, staff, total FROM user_counts WHERE total <> 0"
SCANNED = """
SELECT is_active AND deleted_at IS NULL AS active, is_staff AS staff, count(*) AS total
FROM users GROUP BY 1, 2
"""
LEFT_BEHIND = """
SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'user_counts%')
     + (SELECT count(*) FROM pg_proc WHERE proname LIKE 'user_counts%')
     + (SELECT count(*) FROM pg_class WHERE relname = 'user_counts')
"""


@pytest.fixture(scope="module")
def scratch_url() -> str:
    return recreate_database(find_or_start_postgres(), f"{TEST_DB}_user_counts")


def run(url: str, *statements: str) -> list[Any]:
    """Each statement in its own transaction; the rows of the last one."""

    async def go() -> list[Any]:
        engine = create_async_engine(url)
        try:
            rows: list[Any] = []
            for statement in statements:
                async with engine.begin() as connection:
                    result = await connection.execute(text(statement))
                    rows = list(result.all()) if result.returns_rows else []
            return rows
        finally:
            await engine.dispose()

    return asyncio.run(go())


def buckets(url: str, sql: str) -> dict[tuple[bool, bool], int]:
    return {(row.active, row.staff): int(row.total) for row in run(url, sql)}


def test_the_upgrade_counts_the_existing_users_and_the_triggers_take_over(
    scratch_url: str,
) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, BEFORE_USER_COUNTS)
    run(scratch_url, "TRUNCATE users CASCADE", INSERT_USERS)

    command.upgrade(config, USER_COUNTS)

    assert len(buckets(scratch_url, KEPT)) == 4
    assert buckets(scratch_url, KEPT) == buckets(scratch_url, SCANNED)
    run(
        scratch_url,
        "UPDATE users SET is_staff = NOT is_staff WHERE username LIKE 'u1%'",
        "DELETE FROM users WHERE username LIKE 'u2%'",
    )
    assert buckets(scratch_url, KEPT) == buckets(scratch_url, SCANNED)


def test_the_downgrade_drops_the_table_its_triggers_and_functions(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    command.upgrade(config, USER_COUNTS)
    run(scratch_url, "TRUNCATE users CASCADE", INSERT_USERS)

    command.downgrade(config, BEFORE_USER_COUNTS)

    assert run(scratch_url, LEFT_BEHIND)[0][0] == 0
    assert run(scratch_url, "SELECT count(*) FROM users")[0][0] == 500
    # Users are written without the triggers; upgrading again counts them as they are.
    run(
        scratch_url,
        "UPDATE users SET is_active = NOT is_active WHERE username LIKE 'u3%'",
        "DELETE FROM users WHERE username LIKE 'u4%'",
    )
    command.upgrade(config, "head")
    assert buckets(scratch_url, KEPT) == buckets(scratch_url, SCANNED)
