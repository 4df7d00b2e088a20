"""logout: ends the session of the refresh token (argument, else cookie, else the access
token's session), or all of the user's sessions, and clears the refresh cookie."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.support.accounts import (
    CLIENT_IP,
    LOGOUT,
    REFRESH_COOKIE,
    audit_rows,
    can_refresh,
    device,
    is_signed_in,
    live_session_ids,
    session_id_of,
    the_set_cookie,
)
from tests.support.graphql import GraphQLClient


async def test_logout_with_the_refresh_token_argument_ends_that_session_only(
    client: GraphQLClient, app: Starlette
) -> None:
    laptop = await client.register("ada@example.com")
    async with device(app) as other:
        phone = await other.login("ada@example.com")

        result = await client.execute(LOGOUT, {"token": laptop.refresh_token})

        assert result.ok() == {"logout": True}
        assert not await can_refresh(other, laptop.refresh_token)
        assert not await is_signed_in(other, laptop.access_token)
        assert await is_signed_in(other, phone.access_token)
        assert await can_refresh(other, phone.refresh_token)


async def test_logout_reads_the_refresh_cookie_when_no_argument_is_given(
    client: GraphQLClient, app: Starlette
) -> None:
    account = await client.register("ada@example.com")
    assert client.http.cookies.get(REFRESH_COOKIE) == account.refresh_token

    result = await client.execute(LOGOUT)

    assert result.ok() == {"logout": True}
    async with device(app) as other:
        assert not await can_refresh(other, account.refresh_token)
        assert not await is_signed_in(other, account.access_token)


async def test_logout_everywhere_ends_every_session_of_the_user(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    first = await client.register("ada@example.com")
    async with device(app) as other:
        second = await other.login("ada@example.com")
        third = await other.login("ada@example.com")
        bystander = await other.register("bob@example.com")

        result = await client.execute(LOGOUT, {"everywhere": True})

        assert result.ok() == {"logout": True}
        assert await live_session_ids(engine, first.id) == set()
        for account in (first, second, third):
            assert not await is_signed_in(other, account.access_token)
            assert not await can_refresh(other, account.refresh_token)
        assert await is_signed_in(other, bystander.access_token)


async def test_logout_everywhere_with_only_an_access_token_ends_every_session(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    first = await client.register("ada@example.com")
    second = await client.login("ada@example.com")
    client.http.cookies.clear()

    result = await client.execute(LOGOUT, {"everywhere": True}, token=second.access_token)

    assert result.ok() == {"logout": True}
    assert await live_session_ids(engine, first.id) == set()
    assert not await is_signed_in(client, first.access_token)
    assert not await is_signed_in(client, second.access_token)


async def test_logout_clears_the_refresh_cookie(client: GraphQLClient) -> None:
    await client.register("ada@example.com")

    result = await client.execute(LOGOUT)

    cookie = the_set_cookie(result)
    assert cookie.value == ""
    assert cookie.attributes["max-age"] == "0"
    assert cookie.attributes["path"] == "/graphql"
    assert parsedate_to_datetime(cookie.attributes["expires"]) <= datetime.now(UTC)
    assert "httponly" in cookie.attributes
    assert "secure" in cookie.attributes
    assert client.http.cookies.get(REFRESH_COOKIE) is None


async def test_logout_writes_a_logout_audit_row(client: GraphQLClient, engine: AsyncEngine) -> None:
    account = await client.register("ada@example.com")

    result = await client.execute(
        LOGOUT, {"token": account.refresh_token}, headers={"user-agent": "AuditTest/1.0"}
    )

    result.ok()
    rows = await audit_rows(engine, "LOGOUT")
    assert len(rows) == 1
    row = rows[0]
    assert str(row["user_id"]) == account.id
    assert row["model_name"] == "Session"
    assert row["object_id"] == session_id_of(account.access_token)
    assert row["changes"] == {"everywhere": False, "revokedSessions": 1}
    assert row["ip_address"] == CLIENT_IP
    assert row["user_agent"] == "AuditTest/1.0"
    assert row["request_id"] == result.http.headers["x-request-id"]


async def test_logout_with_only_an_access_token_ends_that_tokens_session(
    client: GraphQLClient, app: Starlette
) -> None:
    first = await client.register("ada@example.com")
    second = await client.login("ada@example.com")
    client.http.cookies.clear()

    result = await client.execute(LOGOUT, token=second.access_token)

    assert result.ok() == {"logout": True}
    async with device(app) as other:
        assert not await is_signed_in(other, second.access_token)
        assert not await can_refresh(other, second.refresh_token)
        assert await is_signed_in(other, first.access_token)
        assert await can_refresh(other, first.refresh_token)


async def test_logout_with_nothing_to_sign_out_of_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    result = await client.execute(LOGOUT)

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.data is None
    assert await audit_rows(engine, "LOGOUT") == []


async def test_logout_with_an_unknown_refresh_token_and_no_access_token_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    client.http.cookies.clear()

    result = await client.execute(LOGOUT, {"token": "not-a-refresh-token"})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await live_session_ids(engine, account.id) == {session_id_of(account.access_token)}


async def test_logout_with_a_revoked_access_token_is_unauthenticated(
    client: GraphQLClient,
) -> None:
    account = await client.register("ada@example.com")
    client.http.cookies.clear()
    (await client.execute(LOGOUT, token=account.access_token)).ok()

    result = await client.execute(LOGOUT, token=account.access_token)

    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_logout_of_an_already_ended_session_still_succeeds(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")
    (await client.execute(LOGOUT, {"token": account.refresh_token})).ok()

    result = await client.execute(LOGOUT, {"token": account.refresh_token})

    assert result.ok() == {"logout": True}


async def test_logout_with_a_stale_refresh_cookie_clears_it(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")
    (await client.execute(LOGOUT, {"token": account.refresh_token})).ok()
    client.http.cookies.clear()

    result = await client.execute(
        LOGOUT, headers={"cookie": f"{REFRESH_COOKIE}={account.refresh_token}"}
    )

    assert result.ok() == {"logout": True}
    assert the_set_cookie(result).attributes["max-age"] == "0"


async def test_a_revoked_refresh_token_cannot_sign_the_user_out_everywhere(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    # Given a refresh token that was already signed out (say, copied off a lost laptop)
    lost = await client.register("ada@example.com")
    (await client.execute(LOGOUT, {"token": lost.refresh_token})).ok()
    async with device(app) as phone_client:
        phone = await phone_client.login("ada@example.com")

        # When whoever holds it asks to sign out everywhere
        result = await client.execute(LOGOUT, {"token": lost.refresh_token, "everywhere": True})

        # Then that is refused, and the user's live session on another device is untouched
        assert result.error_codes == ["UNAUTHENTICATED"]
        assert await live_session_ids(engine, lost.id) == {session_id_of(phone.access_token)}
        assert await is_signed_in(phone_client, phone.access_token)
