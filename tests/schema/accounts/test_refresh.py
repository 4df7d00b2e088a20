"""refresh: rotates the refresh token; a rotated token presented again after the grace
window is taken as stolen and revokes its whole family (the session)."""

from __future__ import annotations

import asyncio
import uuid
from http.cookies import SimpleCookie
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from tests.support.graphql import ME, GraphQLClient, Response
from tests.support.tokens import claims_of

INVALID_REFRESH = "The refresh token is invalid, expired or revoked."
BODY = {"x-refresh-token-transport": "body"}
REFRESH_FULL = """
mutation Refresh($token: String) {
  refresh(refreshToken: $token) {
    accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { id email }
  }
}"""


async def sql(engine: AsyncEngine, statement: str, **params: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(statement), params)


async def rows(engine: AsyncEngine, statement: str, **params: Any) -> list[RowMapping]:
    async with engine.connect() as connection:
        return list((await connection.execute(text(statement), params)).mappings().all())


async def audit_rows(engine: AsyncEngine, action: str) -> list[RowMapping]:
    return await rows(engine, "SELECT * FROM audit_logs WHERE action = :action", action=action)


async def let_grace_window_pass(engine: AsyncEngine) -> None:
    """Instead of sleeping: make every rotation look a minute old."""
    await sql(
        engine,
        "UPDATE refresh_tokens SET rotated_at = now() - interval '1 minute' "
        "WHERE rotated_at IS NOT NULL",
    )


def rotated(result: Response) -> tuple[str, str]:
    """(access token, refresh token) of a successful body-transport refresh."""
    payload = result.ok()["refresh"]
    assert payload["refreshToken"], "asked for the body transport"
    return payload["accessToken"], payload["refreshToken"]


def assert_refused(result: Response) -> None:
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.data is None


async def me_id(client: GraphQLClient, access_token: str) -> str:
    return str((await client.execute(ME, token=access_token)).ok()["me"]["id"])


def set_cookie(result: Response, settings: Settings) -> SimpleCookie:
    headers = result.http.headers.get_list("set-cookie")
    cookie: SimpleCookie = SimpleCookie()
    for header in headers:
        cookie.load(header)
    assert settings.refresh_cookie_name in cookie, headers
    return cookie


async def test_refresh_rotates_the_token(client: GraphQLClient, engine: AsyncEngine) -> None:
    account = await client.register("rotate@example.com")

    access, refresh = rotated(await client.refresh(account.refresh_token))

    assert refresh != account.refresh_token
    assert access != account.access_token
    assert await me_id(client, access) == account.id
    assert claims_of(access)["sid"] == claims_of(account.access_token)["sid"]
    tokens = await rows(engine, "SELECT rotated_at FROM refresh_tokens ORDER BY created_at")
    assert len(tokens) == 2
    assert sum(row["rotated_at"] is not None for row in tokens) == 1


async def test_the_new_refresh_token_works_again(client: GraphQLClient) -> None:
    account = await client.register("chain@example.com")
    _, second = rotated(await client.refresh(account.refresh_token))

    access, third = rotated(await client.refresh(second))

    assert third not in (account.refresh_token, second)
    assert await me_id(client, access) == account.id


async def test_the_old_refresh_token_fails_after_the_grace_window(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("old@example.com")
    rotated(await client.refresh(account.refresh_token))
    await let_grace_window_pass(engine)

    result = await client.refresh(account.refresh_token)

    assert_refused(result)
    assert result.errors[0]["message"] == INVALID_REFRESH


async def test_refresh_is_audited(client: GraphQLClient, engine: AsyncEngine) -> None:
    account = await client.register("audit@example.com")

    rotated(await client.refresh(account.refresh_token))

    audit = await audit_rows(engine, "TOKEN_REFRESH")
    assert len(audit) == 1
    assert str(audit[0]["user_id"]) == account.id
    assert audit[0]["model_name"] == "Session"
    assert audit[0]["object_id"] == claims_of(account.access_token)["sid"]
    assert audit[0]["ip_address"] == "203.0.113.7"


async def test_refresh_updates_the_session_last_use(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("last.use@example.com")
    await sql(engine, "UPDATE auth_sessions SET last_used_at = now() - interval '1 day'")

    rotated(await client.refresh(account.refresh_token))

    (session,) = await rows(
        engine, "SELECT now() - last_used_at < interval '1 minute' AS fresh FROM auth_sessions"
    )
    assert session["fresh"] is True


async def test_reusing_a_rotated_token_after_the_grace_window_revokes_the_family(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("victim@example.com")
    newest_access, newest_refresh = rotated(await client.refresh(account.refresh_token))
    await let_grace_window_pass(engine)

    reuse = await client.refresh(account.refresh_token)

    assert_refused(reuse)
    # The whole family is gone: the legitimate newest refresh token ...
    assert_refused(await client.refresh(newest_refresh))
    # ... and every access token of the session, at once rather than at expiry.
    for access in (newest_access, account.access_token):
        me = await client.execute(ME, token=access)
        assert me.error_codes == ["UNAUTHENTICATED"]


async def test_token_reuse_is_recorded_and_committed_despite_the_error(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("reuse.audit@example.com")
    rotated(await client.refresh(account.refresh_token))
    await let_grace_window_pass(engine)

    assert_refused(await client.refresh(account.refresh_token))

    detected = await audit_rows(engine, "TOKEN_REUSE_DETECTED")
    assert len(detected) == 1
    assert str(detected[0]["user_id"]) == account.id
    assert detected[0]["object_id"] == claims_of(account.access_token)["sid"]
    (session,) = await rows(engine, "SELECT revoked_at, revoked_reason FROM auth_sessions")
    assert session["revoked_at"] is not None
    assert session["revoked_reason"] == "reuse"
    # No rotation happened on the refused request.
    assert len(await audit_rows(engine, "TOKEN_REFRESH")) == 1


async def test_token_reuse_leaves_the_users_other_sessions_alone(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("two.devices@example.com")
    other_device = await client.login("two.devices@example.com")
    rotated(await client.refresh(account.refresh_token))
    await let_grace_window_pass(engine)

    assert_refused(await client.refresh(account.refresh_token))

    assert await me_id(client, other_device.access_token) == account.id
    rotated(await client.refresh(other_device.refresh_token))


async def test_within_the_grace_window_a_rotated_token_still_refreshes(
    client: GraphQLClient,
) -> None:
    # Two tabs: both present the same token one after the other.
    account = await client.register("tabs@example.com")
    first_access, first_refresh = rotated(await client.refresh(account.refresh_token))

    second_access, second_refresh = rotated(await client.refresh(account.refresh_token))

    assert second_refresh != first_refresh
    for access in (first_access, second_access):
        assert await me_id(client, access) == account.id
    for refresh in (first_refresh, second_refresh):
        rotated(await client.refresh(refresh))


async def test_concurrent_refreshes_of_one_token_both_succeed(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("race@example.com")

    results = await asyncio.gather(*(client.refresh(account.refresh_token) for _ in range(2)))

    pairs = [rotated(result) for result in results]
    assert pairs[0][1] != pairs[1][1]
    for access, refresh in pairs:
        assert await me_id(client, access) == account.id
        rotated(await client.refresh(refresh))
    (session,) = await rows(engine, "SELECT revoked_at FROM auth_sessions")
    assert session["revoked_at"] is None


async def test_refresh_reads_the_cookie_when_no_token_is_given(
    client: GraphQLClient, settings: Settings
) -> None:
    account = await client.register("cookie@example.com")
    assert client.http.cookies.get(settings.refresh_cookie_name) == account.refresh_token

    result = await client.execute(REFRESH_FULL, headers=BODY)

    payload = result.ok()["refresh"]
    # A token that came in the httpOnly cookie is never put in a readable body.
    assert payload["refreshToken"] is None
    refresh = client.http.cookies.get(settings.refresh_cookie_name)
    assert refresh and refresh != account.refresh_token
    assert await me_id(client, payload["accessToken"]) == account.id
    # The next cookie refresh uses the rotated cookie.
    assert (await client.execute(REFRESH_FULL)).ok()["refresh"]["accessToken"]


async def test_the_argument_wins_over_the_cookie(client: GraphQLClient, settings: Settings) -> None:
    first = await client.register("first@example.com")
    second = await client.register("second@example.com")
    assert client.http.cookies.get(settings.refresh_cookie_name) == second.refresh_token

    result = await client.refresh(first.refresh_token)

    assert result.ok()["refresh"]["user"]["id"] == first.id


async def test_refresh_without_any_token_is_unauthenticated(client: GraphQLClient) -> None:
    result = await client.refresh(None)

    assert_refused(result)


async def test_refresh_with_an_empty_token_and_no_cookie_is_unauthenticated(
    client: GraphQLClient,
) -> None:
    await client.register("empty@example.com")
    client.http.cookies.clear()

    assert_refused(await client.refresh(""))


async def test_refresh_with_a_garbage_token_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    await client.register("garbage@example.com")

    result = await client.refresh("not-a-refresh-token")

    assert_refused(result)
    assert result.errors[0]["message"] == INVALID_REFRESH
    assert "not-a-refresh-token" not in result.http.text
    assert await audit_rows(engine, "TOKEN_REFRESH") == []


async def test_an_access_token_is_not_a_refresh_token(client: GraphQLClient) -> None:
    account = await client.register("confused@example.com")

    assert_refused(await client.refresh(account.access_token))


async def test_refresh_for_a_deactivated_user_fails(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("deactivated@example.com")
    await sql(engine, "UPDATE users SET is_active = false WHERE id = :id", id=uuid.UUID(account.id))

    assert_refused(await client.refresh(account.refresh_token))
    assert await audit_rows(engine, "TOKEN_REFRESH") == []


async def test_refresh_for_a_soft_deleted_user_fails(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("gone@example.com")
    await sql(
        engine, "UPDATE users SET deleted_at = now() WHERE id = :id", id=uuid.UUID(account.id)
    )

    assert_refused(await client.refresh(account.refresh_token))


async def test_an_expired_refresh_token_fails(client: GraphQLClient, engine: AsyncEngine) -> None:
    account = await client.register("expired@example.com")
    await sql(engine, "UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")

    assert_refused(await client.refresh(account.refresh_token))


async def test_refresh_of_a_revoked_session_fails(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("revoked@example.com")
    await sql(engine, "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'logout'")

    assert_refused(await client.refresh(account.refresh_token))


async def test_refresh_token_is_null_in_the_body_without_the_transport_header(
    client: GraphQLClient, settings: Settings
) -> None:
    account = await client.register("browser@example.com")

    result = await client.execute(REFRESH_FULL, {"token": account.refresh_token})

    payload = result.ok()["refresh"]
    assert payload["refreshToken"] is None
    assert payload["refreshTokenExpiresAt"]
    assert await me_id(client, payload["accessToken"]) == account.id
    cookie = set_cookie(result, settings)[settings.refresh_cookie_name]
    assert cookie.value
    assert cookie.value != account.refresh_token
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["path"] == settings.refresh_cookie_path
    assert cookie["samesite"].lower() == settings.refresh_cookie_samesite
    max_age = int(cookie["max-age"])
    assert settings.refresh_token_ttl_seconds - 60 <= max_age <= settings.refresh_token_ttl_seconds


async def test_refresh_token_is_in_the_body_with_the_transport_header_and_in_the_cookie(
    client: GraphQLClient, settings: Settings
) -> None:
    account = await client.register("cli@example.com")

    result = await client.execute(REFRESH_FULL, {"token": account.refresh_token}, headers=BODY)

    body_token = result.ok()["refresh"]["refreshToken"]
    assert body_token
    assert set_cookie(result, settings)[settings.refresh_cookie_name].value == body_token


async def test_cookie_only_refresh_token_works(client: GraphQLClient, settings: Settings) -> None:
    # A browser: never sees the token, yet the rotated cookie is a valid refresh token.
    await client.register("browser.only@example.com")

    result = await client.execute(REFRESH_FULL)

    new_cookie = set_cookie(result, settings)[settings.refresh_cookie_name].value
    client.http.cookies.clear()
    rotated(await client.refresh(new_cookie))


async def test_refresh_rejects_a_rotated_cookie_after_the_grace_window(
    client: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    account = await client.register("stale.cookie@example.com")
    (await client.execute(REFRESH_FULL)).ok()
    await let_grace_window_pass(engine)
    client.http.cookies.clear()
    stale_cookie = {"cookie": f"{settings.refresh_cookie_name}={account.refresh_token}"}

    result = await client.execute(REFRESH_FULL, headers={**BODY, **stale_cookie})

    assert_refused(result)
    assert len(await audit_rows(engine, "TOKEN_REUSE_DETECTED")) == 1
