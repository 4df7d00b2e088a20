"""Access-token edges that tests/schema/accounts/test_access_tokens.py leaves open: `nbf`,
a malformed `sid`, a `sid` of another user's session, the exact end of a token's life,
and how long a revoked session's tokens stay refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette

from api.settings import Settings
from tests.support.accounts import LOGOUT, is_signed_in, session_id_of
from tests.support.graphql import ME, Account, GraphQLClient
from tests.support.tokens import claims_of, forge


@pytest.fixture
async def account(client: GraphQLClient) -> Account:
    return await client.register("jwt.edges@example.com")


def ids_of(account: Account) -> tuple[str, str]:
    claims = claims_of(account.access_token)
    return str(claims["sub"]), str(claims["sid"])


async def test_a_token_not_valid_before_a_future_time_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    user_id, session_id = ids_of(account)
    token = forge(settings, user_id, session_id, nbf=datetime.now(UTC) + timedelta(minutes=5))

    result = await client.execute(ME, token=token)

    assert result.error_codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("sid", ["not-a-uuid", "", None])
async def test_a_token_whose_session_id_is_not_a_uuid_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings, sid: object
) -> None:
    user_id, _ = ids_of(account)
    token = forge(settings, user_id, "placeholder", sid=sid)

    result = await client.execute(ME, token=token)

    assert result.error_codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("sid", [42, ["a", "list"]], ids=["number", "list"])
async def test_a_signed_token_whose_session_id_is_not_a_string_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings, sid: object
) -> None:
    user_id, _ = ids_of(account)
    token = forge(settings, user_id, "placeholder", sid=sid)

    result = await client.execute(ME, token=token)

    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_a_signed_token_pairing_a_user_with_another_users_session_is_unauthenticated(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    victim = await client.register("victim@example.com")
    _, attackers_session = ids_of(account)
    victims_id, _ = ids_of(victim)
    token = forge(settings, victims_id, attackers_session)

    result = await client.execute(ME, token=token)

    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_another_users_session_is_refused_even_while_its_live_marker_is_cached(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    victim = await client.register("victim@example.com")
    assert await is_signed_in(client, account.access_token)  # the session's marker cached
    _, attackers_session = ids_of(account)
    token = forge(settings, ids_of(victim)[0], attackers_session)

    assert (await client.execute(ME, token=token)).error_codes == ["UNAUTHENTICATED"]
    assert await is_signed_in(client, account.access_token)  # the real owner is unaffected


async def test_a_token_is_accepted_until_its_expiry_without_leeway(
    client: GraphQLClient, account: Account, settings: Settings
) -> None:
    # test_access_tokens: one second past `exp` is refused. Just before it, accepted.
    user_id, session_id = ids_of(account)
    now = datetime.now(UTC).replace(microsecond=0)
    token = forge(settings, user_id, session_id, iat=now, exp=now + timedelta(seconds=3))

    result = await client.execute(ME, token=token)

    assert result.ok()["me"]["id"] == account.id


async def test_a_revoked_session_replaces_its_live_marker_in_redis(
    client: GraphQLClient, account: Account, redis: Redis
) -> None:
    assert await is_signed_in(client, account.access_token)  # cached as live
    key = f"glassshop:live-session:{session_id_of(account.access_token)}"
    assert await redis.get(key) == uuid.UUID(ids_of(account)[0]).hex.encode()  # its owner

    await client.execute(LOGOUT, {"token": account.refresh_token}, token=account.access_token)

    assert await redis.get(key) == b"0"
    assert not await is_signed_in(client, account.access_token)


async def test_a_live_marker_written_after_a_revocation_does_not_revive_the_session(
    app: Starlette, client: GraphQLClient, account: Account, redis: Redis
) -> None:
    # An instance that read the session from PostgreSQL just before the revocation
    # committed writes "live" only after it: that write must not take.
    session_id = session_id_of(account.access_token)
    await client.execute(LOGOUT, {"token": account.refresh_token}, token=account.access_token)

    user_id = uuid.UUID(ids_of(account)[0])
    await app.state.resources.revocations.remember_live(uuid.UUID(session_id), user_id)

    assert await redis.get(f"glassshop:live-session:{session_id}") == b"0"
    assert not await is_signed_in(client, account.access_token)


async def test_a_revoked_session_stays_refused_when_redis_has_lost_its_marker(
    client: GraphQLClient, account: Account, redis: Redis
) -> None:
    await client.execute(LOGOUT, {"token": account.refresh_token}, token=account.access_token)
    assert not await is_signed_in(client, account.access_token)

    await redis.flushdb()  # Redis restarted empty

    assert not await is_signed_in(client, account.access_token)
