"""How much SQL a read costs: nested lists are batched (a constant number of statements
however many users), cached users and profiles cost none, writes are never read stale,
and reads keep working from PostgreSQL alone when Redis is unreachable.

Statements are counted on the app's own engine (before_cursor_execute), so everything a
request sends to PostgreSQL is seen, and nothing the tests themselves send."""

from __future__ import annotations

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
from tests.conftest import make_settings
from tests.support.accounts import LOGOUT, device, make_staff
from tests.support.graphql import Account, GraphQLClient

USERS_WITH_PROFILES_AND_AUDIT = """
query {
  users(first: 100) {
    totalCount
    edges { node {
      email
      profile { phone }
      auditLogs(first: 5) { totalCount edges { node { action } } }
    } }
  }
}"""

MY_PHONE = "query { me { firstName profile { phone } } }"
USER_PHONE = "query User($id: ID!) { user(id: $id) { email profile { phone } } }"
UPDATE_PROFILE = """
mutation Update($input: UpdateProfileInput!) { updateProfile(input: $input) { id } }"""

# Nothing listens here: every Redis call fails at once with "connection refused".
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(scope="module")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    """This module's own instance, overriding conftest's `app` (and so the `client` built on
    it): conftest yields asgi_lifespan's wrapper, which hides the Starlette object and its
    `state.resources`, whose engine is the one to watch."""
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


def resources_of(app: Starlette) -> Resources:
    resources: Resources = app.state.resources
    return resources


@contextmanager
def sql_statements(app: Starlette) -> Iterator[list[str]]:
    """Every statement the app sends to PostgreSQL inside the block."""
    sync_engine = resources_of(app).engine.sync_engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)


async def seed(engine: AsyncEngine, users: int) -> None:
    """Users 1..`users` (seeding is idempotent), each with six audit rows, so that
    `auditLogs(first: 5)` has a next page."""
    await seed_users(engine, count=users, password_hash="not-a-real-hash")
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO audit_logs (id, user_id, action, model_name, object_id, created_at) "
                "SELECT gen_random_uuid(), u.id, 'PROFILE_UPDATE', 'UserProfile', u.id::text, "
                "       now() + g * interval '1 second' "
                "FROM users u CROSS JOIN generate_series(1, 4) AS g "
                "WHERE u.username LIKE 'user0%' "
                "  AND (SELECT count(*) FROM audit_logs a WHERE a.user_id = u.id) = 2"
            )
        )


async def staff_account(client: GraphQLClient, engine: AsyncEngine, redis: Redis) -> Account:
    account = await client.register("staff@example.com")
    await make_staff(engine, account.id, redis)
    return account


async def my_phone(client: GraphQLClient, account: Account) -> Any:
    return (await client.execute(MY_PHONE, token=account.access_token)).ok()["me"]


async def users_page_from_a_cold_cache(
    app: Starlette, client: GraphQLClient, redis: Redis, staff: Account
) -> tuple[list[str], Any]:
    # No user or profile cached: the worst case, everything comes from PostgreSQL.
    await redis.flushdb()
    with sql_statements(app) as statements:
        data = (await client.execute(USERS_WITH_PROFILES_AND_AUDIT, token=staff.access_token)).ok()
    return statements, data["users"]


async def test_users_with_profiles_and_audit_logs_run_the_same_few_statements_for_10_or_100(
    app: Starlette, client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await staff_account(client, engine, redis)

    await seed(engine, 10)
    for_10, page_10 = await users_page_from_a_cold_cache(app, client, redis, staff)
    await seed(engine, 100)
    for_100, page_100 = await users_page_from_a_cold_cache(app, client, redis, staff)

    # With Redis flushed: the token's session is live, the viewer, the page, its total,
    # the profiles, the audit heads and the audit counts: one statement each, however
    # many users are on the page.
    assert len(for_10) == 7, for_10
    assert len(for_100) == 7, for_100
    assert (page_10["totalCount"], len(page_10["edges"])) == (11, 11)
    assert (page_100["totalCount"], len(page_100["edges"])) == (101, 100)
    seeded = [e["node"] for e in page_100["edges"] if e["node"]["email"].startswith("user0")]
    assert len(seeded) == 99  # and the staff user, who joined first
    for user in seeded:
        assert user["profile"] == {"phone": None}
        assert user["auditLogs"]["totalCount"] == 6
        assert len(user["auditLogs"]["edges"]) == 5


async def test_a_users_page_with_a_warm_cache_reads_no_user_or_profile_rows(
    app: Starlette, client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await staff_account(client, engine, redis)
    await seed(engine, 100)
    await client.execute(USERS_WITH_PROFILES_AND_AUDIT, token=staff.access_token)

    with sql_statements(app) as statements:
        (await client.execute(USERS_WITH_PROFILES_AND_AUDIT, token=staff.access_token)).ok()

    # Only what is never cached: the page, its total, the audit heads and their counts.
    assert len(statements) == 4, statements
    assert not [s for s in statements if "FROM user_profiles" in s], statements


async def test_me_with_a_warm_cache_runs_no_sql(app: Starlette, client: GraphQLClient) -> None:
    account = await client.register("reader@example.com")
    with sql_statements(app) as cold:
        await my_phone(client, account)

    with sql_statements(app) as warm:
        me = await my_phone(client, account)

    assert cold, "the first read should have loaded the user and profile from PostgreSQL"
    assert warm == []
    assert me == {"firstName": "", "profile": {"phone": None}}


async def test_user_by_id_runs_no_sql_when_the_user_and_profile_are_cached(
    app: Starlette, client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await staff_account(client, engine, redis)
    member = await client.register("member@example.com")
    # Each one's own `me` caches them; the cache is shared, not per client or token.
    await my_phone(client, member)
    await my_phone(client, staff)

    with sql_statements(app) as statements:
        as_staff = await client.execute(USER_PHONE, {"id": member.id}, token=staff.access_token)
        as_self = await client.execute(USER_PHONE, {"id": member.id}, token=member.access_token)

    assert statements == []
    expected = {"user": {"email": "member@example.com", "profile": {"phone": None}}}
    assert as_staff.ok() == expected
    assert as_self.ok() == expected


async def test_me_after_update_profile_shows_the_new_values_on_this_and_another_device(
    app: Starlette, client: GraphQLClient
) -> None:
    account = await client.register("changer@example.com")
    async with device(app) as other_device:
        # Signed in before the reads: a login drops the cached user, which would hide a
        # stale entry left behind by the update.
        other = await other_device.login(account.email)
        assert await my_phone(client, account) == {"firstName": "", "profile": {"phone": None}}
        assert await my_phone(other_device, other) == {"firstName": "", "profile": {"phone": None}}

        update = {"input": {"firstName": "Grace", "phone": "+1 555 0100"}}
        (await client.execute(UPDATE_PROFILE, update, token=account.access_token)).ok()

        expected = {"firstName": "Grace", "profile": {"phone": "+1 555 0100"}}
        with sql_statements(app) as reread:
            assert await my_phone(client, account) == expected
        assert await my_phone(other_device, other) == expected
        with sql_statements(app) as cached_again:
            assert await my_phone(other_device, other) == expected

    assert reread, "the update should have dropped the cached user and profile"
    assert cached_again == []


async def test_an_update_through_one_instance_is_read_fresh_through_another(
    app: Starlette, client: GraphQLClient, settings: Settings
) -> None:
    account = await client.register("twoinstances@example.com")
    second = create_app(settings)
    async with LifespanManager(second), device(second) as via_second:
        assert await my_phone(via_second, account) == {
            "firstName": "",
            "profile": {"phone": None},
        }

        update = {"input": {"phone": "+44 20 7946 0958"}}
        (await client.execute(UPDATE_PROFILE, update, token=account.access_token)).ok()

        assert await my_phone(via_second, account) == {
            "firstName": "",
            "profile": {"phone": "+44 20 7946 0958"},
        }


@pytest.fixture(scope="module")
async def redisless_app(database_url: str, settings: Settings) -> AsyncIterator[Starlette]:
    """A second instance on the same database whose Redis is unreachable; it shares the
    JWT secret, so tokens issued by the normal app are valid here."""
    broken = make_settings(
        database_url,
        UNREACHABLE_REDIS,
        jwt_secret=settings.jwt_secret.get_secret_value(),
        redis_socket_timeout_seconds=0.5,
    )
    application = create_app(broken)
    async with LifespanManager(application):
        yield application


async def test_with_redis_unreachable_me_and_user_are_read_from_postgresql(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, redisless_app: Starlette
) -> None:
    # Writes go through the normal app; registering on the broken one may fail.
    member = await client.register("noredis@example.com")
    staff = await staff_account(client, engine, redis)
    stats = resources_of(redisless_app).cache.stats
    errors_before = stats.errors

    async with device(redisless_app) as broken:
        me = await broken.execute(
            "query { me { id email profile { phone } } }", token=member.access_token
        )
        own = await broken.execute(USER_PHONE, {"id": member.id}, token=member.access_token)
        by_staff = await broken.execute(USER_PHONE, {"id": member.id}, token=staff.access_token)

    assert me.ok() == {
        "me": {"id": member.id, "email": "noredis@example.com", "profile": {"phone": None}}
    }
    expected = {"user": {"email": "noredis@example.com", "profile": {"phone": None}}}
    assert own.ok() == expected
    assert by_staff.ok() == expected
    assert stats.errors > errors_before, "the reads should have tried Redis and fallen through"


async def test_with_redis_unreachable_a_signed_out_session_is_still_refused(
    client: GraphQLClient, redisless_app: Starlette
) -> None:
    account = await client.register("signedout@example.com")
    (
        await client.execute(LOGOUT, {"token": account.refresh_token}, token=account.access_token)
    ).ok()

    async with device(redisless_app) as broken:
        result = await broken.execute("query { me { id } }", token=account.access_token)

    # The revocation check falls back to the session row in PostgreSQL.
    assert result.error_codes == ["UNAUTHENTICATED"]
