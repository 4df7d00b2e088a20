"""users.totalCount: counted only when selected; unfiltered and by isActive/isStaff it is
read from `user_counts`, which statement-level triggers on `users` keep exact in the
same transactions that change users; other filters still count with a scan."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from api.app import create_app
from api.resources import Resources
from api.settings import Settings
from schema.users.seed import seed_users
from tests.support.accounts import forget_user, make_staff
from tests.support.graphql import Account, GraphQLClient
from tests.support.staff import DEACTIVATE, REACTIVATE, T0, insert_user, register_staff

TOTAL = "query Total($filter: UserFilter) { users(first: 0, filter: $filter) { totalCount } }"
PAGE_WITHOUT_TOTAL = """
query { users(first: 5) { edges { cursor node { id email } } pageInfo { hasNextPage } } }"""
PAGE_WITH_TOTAL = """
query Page($filter: UserFilter) {
  users(first: 5, filter: $filter) { totalCount edges { node { id } } }
}"""

Bucket = tuple[bool, bool]  # (active, staff)
# Every filter the kept counts answer: none, isActive, isStaff and both.
FLAG_FILTERS: list[dict[str, bool]] = [
    {},
    {"isActive": True},
    {"isActive": False},
    {"isStaff": True},
    {"isStaff": False},
    *[{"isActive": a, "isStaff": s} for a in (True, False) for s in (True, False)],
]


@pytest.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """This module's own instance (as in tests/schema/test_query_counts.py), so that the
    statements it sends to PostgreSQL can be watched on its engine."""
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@contextmanager
def sql_statements(app: Starlette) -> Iterator[list[str]]:
    """Every statement the app sends to PostgreSQL inside the block."""
    resources: Resources = app.state.resources
    sync_engine = resources.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)


async def total(client: GraphQLClient, token: str, **filter_: Any) -> int:
    result = await client.execute(TOTAL, {"filter": filter_}, token=token)
    count: int = result.ok()["users"]["totalCount"]
    return count


def _where(filter_: dict[str, bool]) -> str:
    """The list's filters in plain SQL, written here independently of the app."""
    conditions = ["true"]
    if "isActive" in filter_:
        active = "(is_active AND deleted_at IS NULL)"
        conditions.append(active if filter_["isActive"] else f"NOT {active}")
    if "isStaff" in filter_:
        conditions.append("is_staff" if filter_["isStaff"] else "NOT is_staff")
    return " AND ".join(conditions)


async def scanned(engine: AsyncEngine, filter_: dict[str, bool]) -> int:
    """A fresh count(*) of the users the filter selects."""
    async with engine.connect() as connection:
        sql = f"SELECT count(*) FROM users WHERE {_where(filter_)}"
        return int((await connection.execute(text(sql))).scalar_one())


async def kept_buckets(engine: AsyncEngine) -> dict[Bucket, int]:
    """The non-empty buckets of user_counts."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT active, staff, total FROM user_counts WHERE total <> 0")
        )
        return {(row.active, row.staff): int(row.total) for row in rows}


async def scanned_buckets(engine: AsyncEngine) -> dict[Bucket, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT is_active AND deleted_at IS NULL AS active, is_staff AS staff, "
                "count(*) AS total FROM users GROUP BY 1, 2"
            )
        )
        return {(row.active, row.staff): int(row.total) for row in rows}


async def assert_totals_agree_with_a_scan(
    client: GraphQLClient, engine: AsyncEngine, token: str
) -> None:
    assert await kept_buckets(engine) == await scanned_buckets(engine)
    for filter_ in FLAG_FILTERS:
        assert await total(client, token, **filter_) == await scanned(engine, filter_), filter_


async def sql(engine: AsyncEngine, statement: str, **params: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(statement), params)


async def population(client: GraphQLClient, engine: AsyncEngine, redis: Redis) -> Account:
    """A staff member (registered now) and ten users in every bucket (all joined at T0),
    including the two half-deactivated kinds (is_active false alone; deleted_at alone),
    which are not active."""
    staff = await register_staff(client, engine, redis)  # active staff
    users: list[tuple[str, dict[str, Any]]] = [
        *[(f"plain{n}@example.com", {}) for n in range(3)],
        *[(f"off{n}@example.com", {"is_active": False, "deleted_at": T0}) for n in range(2)],
        ("deleted-only@example.com", {"is_active": True, "deleted_at": T0}),
        ("inactive-only@example.com", {"is_active": False}),
        *[(f"boss{n}@example.com", {"is_staff": True}) for n in range(2)],
        ("old-boss@example.com", {"is_staff": True, "is_active": False, "deleted_at": T0}),
    ]
    for email, columns in users:
        await insert_user(engine, email, joined=T0, **columns)
    return staff


# --- the numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ({}, 11),
        ({"isActive": True}, 6),
        ({"isActive": False}, 5),
        ({"isStaff": True}, 4),
        ({"isStaff": False}, 7),
        ({"isActive": True, "isStaff": True}, 3),
        ({"isActive": True, "isStaff": False}, 3),
        ({"isActive": False, "isStaff": True}, 1),
        ({"isActive": False, "isStaff": False}, 4),
    ],
)
async def test_total_count_unfiltered_and_by_is_active_and_is_staff(
    client: GraphQLClient,
    engine: AsyncEngine,
    redis: Redis,
    filter_: dict[str, bool],
    expected: int,
) -> None:
    staff = await population(client, engine, redis)

    assert await total(client, staff.access_token, **filter_) == expected
    assert await scanned(engine, filter_) == expected
    assert await kept_buckets(engine) == await scanned_buckets(engine)


async def test_flag_filtered_totals_come_from_the_kept_counts_not_a_scan(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await population(client, engine, redis)
    token = staff.access_token
    # Only a total read from user_counts can see this; a scan of users cannot.
    await sql(engine, "UPDATE user_counts SET total = total + 1000 WHERE active AND NOT staff")

    assert await total(client, token) == 1011
    assert await total(client, token, isActive=True) == 1006
    assert await total(client, token, isStaff=False) == 1007
    assert await total(client, token, isActive=True, isStaff=False) == 1003
    assert await total(client, token, isActive=False, isStaff=False) == 4
    assert await total(client, token, isStaff=True) == 4
    # Search and join dates still count the matching rows.
    assert await total(client, token, search="example.com") == 11
    assert await total(client, token, search="plain", isActive=True) == 3
    assert await total(client, token, joinedAfter=T0.isoformat()) == 11


async def test_search_and_join_date_filters_still_give_the_right_total(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await population(client, engine, redis)
    token = staff.access_token

    assert await total(client, token, search="BOSS") == 3
    assert await total(client, token, search="boss", isActive=True) == 2
    assert await total(client, token, search="boss", isActive=False, isStaff=True) == 1
    assert await total(client, token, search="off") == 2
    assert await total(client, token, search="   ") == 11  # blank: everyone
    assert await total(client, token, search="nobody-matches") == 0
    # Every SQL-inserted user joined at T0; the staff member registered now.
    assert await total(client, token, joinedAfter=T0.isoformat()) == 11
    assert await total(client, token, joinedBefore=T0.isoformat()) == 10
    assert await total(client, token, joinedBefore=T0.isoformat(), isStaff=True) == 3


# --- kept exact by every kind of change -------------------------------------------------------


async def test_register_deactivate_reactivate_soft_delete_and_promotion_move_the_counts(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    token = staff.access_token

    async def totals() -> tuple[int, int, int, int]:
        await assert_totals_agree_with_a_scan(client, engine, token)
        return (
            await total(client, token),
            await total(client, token, isActive=True),
            await total(client, token, isActive=False),
            await total(client, token, isStaff=True),
        )

    assert await totals() == (1, 1, 0, 1)

    ada = await client.register("ada@example.com")
    assert await totals() == (2, 2, 0, 1)

    # deactivateUser is the API's soft delete: is_active false and deleted_at set.
    (await client.execute(DEACTIVATE, {"id": ada.id}, token=token)).ok()
    assert await totals() == (2, 1, 1, 1)

    (await client.execute(REACTIVATE, {"id": ada.id}, token=token)).ok()
    assert await totals() == (2, 2, 0, 1)

    await make_staff(engine, ada.id, redis)  # UPDATE users SET is_staff = true
    assert await totals() == (2, 2, 0, 2)
    assert await total(client, token, isActive=True, isStaff=False) == 0

    # Soft-deleted by another tool that sets only deleted_at: no longer active.
    await sql(engine, "UPDATE users SET deleted_at = now() WHERE id = :id", id=uuid.UUID(ada.id))
    await forget_user(redis, ada.id)
    assert await totals() == (2, 1, 1, 2)
    assert await total(client, token, isActive=False, isStaff=True) == 1

    await sql(engine, "DELETE FROM users WHERE id = :id", id=uuid.UUID(ada.id))
    assert await totals() == (1, 1, 0, 1)


async def test_counts_equal_a_fresh_count_after_bulk_inserts_updates_and_deletes(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    token = staff.access_token

    # `glassshop seed`: one INSERT ... SELECT per batch of 1,000.
    result = await seed_users(engine, count=2_500, password_hash="not-a-hash", batch_size=1_000)
    assert result.created == 2_500
    assert await total(client, token) == 2_501
    await assert_totals_agree_with_a_scan(client, engine, token)

    # Seeding again inserts nothing: the counts stay.
    assert (await seed_users(engine, count=2_500, password_hash="x")).created == 0
    await sql(engine, "UPDATE users SET is_staff = true WHERE username LIKE 'user%7'")
    await sql(
        engine,
        "UPDATE users SET is_active = false, deleted_at = now() WHERE username LIKE 'user%3'",
    )
    await sql(engine, "UPDATE users SET is_active = false WHERE username LIKE 'user%11'")
    await sql(engine, "UPDATE users SET deleted_at = now() WHERE username LIKE 'user%22'")
    # Every seeded user changes bucket at once, both ways.
    await sql(
        engine,
        "UPDATE users SET is_staff = NOT is_staff, is_active = NOT is_active "
        "WHERE username LIKE 'user%'",
    )
    await sql(engine, "DELETE FROM users WHERE username LIKE 'user%5'")
    await sql(engine, "DELETE FROM users WHERE username LIKE 'user%99'")

    expected = await scanned(engine, {})
    assert expected == 2_501 - 250 - 25
    assert await total(client, token) == expected
    await assert_totals_agree_with_a_scan(client, engine, token)


async def test_a_bulk_statement_writes_each_bucket_once_not_once_per_row(
    engine: AsyncEngine,
) -> None:
    written = text(
        "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'user_counts'"
    )
    async with engine.begin() as connection:
        # Read twice in one transaction: the difference is this transaction's row
        # writes (PostgreSQL 15+ also reports a connection's not yet flushed ones).
        before = (await connection.execute(written)).scalar_one()
        await connection.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash, first_name, last_name, "
                "is_active, is_staff) "
                "SELECT gen_random_uuid(), 'bulk' || n || '@example.com', 'bulk' || n, 'x', "
                "       '', '', n % 2 = 0, n % 3 = 0 "
                "FROM generate_series(1, 600) AS n"
            )
        )
        after_insert = (await connection.execute(written)).scalar_one()
        await connection.execute(
            text("UPDATE users SET is_staff = NOT is_staff WHERE username LIKE 'bulk%'")
        )
        after_update = (await connection.execute(written)).scalar_one()

    # Four buckets inserted by the INSERT, the same four updated by the UPDATE: not
    # one counter write per user (600 each).
    assert (after_insert - before, after_update - after_insert) == (4, 4)
    assert await kept_buckets(engine) == await scanned_buckets(engine)


async def test_a_change_that_moves_nobody_between_buckets_writes_no_count(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await population(client, engine, redis)

    async def versions() -> dict[Bucket, str]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT active, staff, xmin::text AS version FROM user_counts")
            )
            return {(row.active, row.staff): row.version for row in rows}

    before = await versions()
    assert len(before) == 4

    await client.login(staff.email)  # writes users.last_login
    await sql(engine, "UPDATE users SET first_name = 'Renamed'")
    await sql(engine, "UPDATE users SET is_staff = is_staff, is_active = is_active")
    # Two users swap buckets in one statement: the net change of each bucket is zero.
    await sql(
        engine,
        "UPDATE users SET is_staff = NOT is_staff "
        "WHERE email IN ('plain0@example.com', 'boss0@example.com')",
    )
    await sql(engine, "DELETE FROM users WHERE email = 'nobody@example.com'")
    assert (await seed_users(engine, count=0, password_hash="x")).created == 0

    assert await versions() == before
    await assert_totals_agree_with_a_scan(client, engine, staff.access_token)


async def test_truncate_empties_the_counts(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    await population(client, engine, redis)
    assert sum((await kept_buckets(engine)).values()) == 11

    await sql(engine, "TRUNCATE users CASCADE")

    assert await kept_buckets(engine) == {}
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT count(*) FROM user_counts"))).scalar_one()
    assert rows == 0
    await redis.flushdb()
    staff = await register_staff(client, engine, redis)
    assert await total(client, staff.access_token) == 1
    assert await total(client, staff.access_token, isStaff=False) == 0
    await assert_totals_agree_with_a_scan(client, engine, staff.access_token)


# --- what a page costs --------------------------------------------------------------------------


async def test_a_page_without_total_count_runs_no_count(
    app: Starlette, client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await population(client, engine, redis)

    with sql_statements(app) as statements:
        page = (await client.execute(PAGE_WITHOUT_TOTAL, token=staff.access_token)).ok()

    assert len(page["users"]["edges"]) == 5
    assert not [s for s in statements if "count(" in s.lower()], statements
    assert not [s for s in statements if "user_counts" in s], statements


@pytest.mark.parametrize("filter_", FLAG_FILTERS)
async def test_a_flag_filtered_total_count_reads_the_kept_counts_and_scans_no_users(
    app: Starlette,
    client: GraphQLClient,
    engine: AsyncEngine,
    redis: Redis,
    filter_: dict[str, bool],
) -> None:
    staff = await population(client, engine, redis)

    with sql_statements(app) as statements:
        (await client.execute(PAGE_WITH_TOTAL, {"filter": filter_}, token=staff.access_token)).ok()

    counting = [s for s in statements if "count(" in s.lower() or "sum(" in s.lower()]
    assert len(counting) == 1, statements
    assert "FROM user_counts" in counting[0]
    assert "FROM users" not in counting[0]


async def test_a_searched_total_count_still_counts_the_matching_users(
    app: Starlette, client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await population(client, engine, redis)

    with sql_statements(app) as statements:
        result = await client.execute(
            PAGE_WITH_TOTAL, {"filter": {"search": "plain"}}, token=staff.access_token
        )

    assert result.ok()["users"]["totalCount"] == 3
    counting = [s for s in statements if "count(" in s.lower()]
    assert len(counting) == 1, statements
    assert "FROM users" in counting[0]
    assert not [s for s in statements if "user_counts" in s], statements


# --- concurrency ------------------------------------------------------------------------------


async def test_two_transactions_adding_users_take_turns_on_the_counter_row_and_both_count(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    insert = text(
        "INSERT INTO users (id, email, username, password_hash, first_name, last_name, "
        "is_active, is_staff) VALUES (gen_random_uuid(), :email, :email, 'x', '', '', true, false)"
    )

    async with engine.connect() as first, engine.connect() as second:
        await first.begin()
        await first.execute(insert, {"email": "first@example.com"})
        await second.begin()
        # The second waits for the first's (active, not staff) row instead of losing it.
        waiting = asyncio.create_task(second.execute(insert, {"email": "second@example.com"}))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.commit()
        await asyncio.wait_for(waiting, timeout=10)
        await second.commit()

    assert await total(client, staff.access_token, isActive=True, isStaff=False) == 2
    await assert_totals_agree_with_a_scan(client, engine, staff.access_token)


async def test_concurrent_statements_moving_users_between_buckets_never_deadlock(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    await seed_users(engine, count=400, password_hash="x")
    workers, rounds = 8, 12
    rng = random.Random(20261201)
    # Each worker owns its users (no two lock the same user row); every statement moves
    # users between all four buckets, both ways, while the others do the same.
    flips = (
        "is_active = NOT is_active",
        "is_staff = NOT is_staff",
        "deleted_at = CASE WHEN deleted_at IS NULL THEN now() END",
        "is_staff = NOT is_staff, is_active = NOT is_active",
    )

    async def worker(index: int) -> None:
        async with engine.connect() as connection:
            for round_ in range(rounds):
                # One statement per transaction, as every API write to users is: the
                # fixed order is per statement (see the migration).
                await connection.begin()
                await connection.execute(
                    text(
                        f"UPDATE users SET {rng.choice(flips)} WHERE username LIKE 'user%' "
                        "AND abs(hashtext(username)) % :workers = :index "
                        "AND random() < 0.5"
                    ),
                    {"workers": workers, "index": index},
                )
                await asyncio.sleep(0)  # hold the counter rows while the others run
                await connection.commit()
                await connection.begin()
                await connection.execute(
                    text(
                        "INSERT INTO users (id, email, username, password_hash, first_name, "
                        "last_name, is_active, is_staff) "
                        "SELECT gen_random_uuid(), e, e, 'x', '', '', n % 2 = 0, n < 2 "
                        "FROM generate_series(0, 3) AS n, "
                        "LATERAL (SELECT :prefix || n || '@example.com') AS email(e)"
                    ),
                    {"prefix": f"w{index}-{round_}-"},
                )
                await asyncio.sleep(0)
                await connection.commit()

    await asyncio.gather(*(worker(n) for n in range(workers)))

    assert await total(client, staff.access_token) == 1 + 400 + 4 * workers * rounds
    await assert_totals_agree_with_a_scan(client, engine, staff.access_token)
