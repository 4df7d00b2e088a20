"""The refresh token's transports: always an httpOnly, Secure (outside development),
SameSite=strict cookie scoped to /graphql; in the body only when asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from starlette.applications import Starlette

from tests.support.accounts import REFRESH_COOKIE, SetCookie, device, the_set_cookie
from tests.support.graphql import (
    DEFAULT_PASSWORD,
    LOGIN,
    REFRESH,
    REGISTER,
    GraphQLClient,
    Response,
)

BODY = {"x-refresh-token-transport": "body"}
SEVEN_DAYS = int(timedelta(days=7).total_seconds())
OPERATIONS = ["register", "login", "refresh"]


async def sign_in(client: GraphQLClient, operation: str, headers: dict[str, str]) -> Response:
    """Performs `operation` for ada@example.com (registering first where needed)."""
    credentials = {"email": "ada@example.com", "password": DEFAULT_PASSWORD}
    if operation == "register":
        return await client.execute(REGISTER, {"input": credentials}, headers=headers)
    account = await client.register("ada@example.com")
    if operation == "login":
        return await client.execute(LOGIN, {"input": credentials}, headers=headers)
    return await client.execute(REFRESH, {"token": account.refresh_token}, headers=headers)


def assert_refresh_cookie_attributes(cookie: SetCookie) -> None:
    attributes = cookie.attributes
    assert "httponly" in attributes
    assert "secure" in attributes
    assert attributes["samesite"].lower() == "strict"
    assert attributes["path"] == "/graphql"
    assert "domain" not in attributes
    assert SEVEN_DAYS - 60 <= int(attributes["max-age"]) <= SEVEN_DAYS


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_the_refresh_cookie_is_http_only_secure_strict_and_scoped_to_graphql(
    client: GraphQLClient, operation: str
) -> None:
    result = await sign_in(client, operation, headers={})

    result.ok()
    cookie = the_set_cookie(result)
    assert cookie.value
    assert_refresh_cookie_attributes(cookie)


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_the_body_refresh_token_is_null_without_the_transport_header(
    client: GraphQLClient, operation: str
) -> None:
    result = await sign_in(client, operation, headers={})

    payload = result.ok()[operation]
    assert payload["refreshToken"] is None
    assert the_set_cookie(result).value


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_the_body_refresh_token_equals_the_cookie_with_the_transport_header(
    client: GraphQLClient, operation: str
) -> None:
    result = await sign_in(client, operation, headers=BODY)

    payload = result.ok()[operation]
    cookie = the_set_cookie(result)
    assert payload["refreshToken"]
    assert payload["refreshToken"] == cookie.value
    assert_refresh_cookie_attributes(cookie)


async def test_the_transport_header_is_case_insensitive(client: GraphQLClient) -> None:
    result = await client.execute(
        REGISTER,
        {"input": {"email": "ada@example.com", "password": DEFAULT_PASSWORD}},
        headers={"x-refresh-token-transport": " Body "},
    )

    assert result.ok()["register"]["refreshToken"] == the_set_cookie(result).value


async def test_the_cookie_alone_refreshes_and_is_rotated(client: GraphQLClient) -> None:
    await client.execute(
        REGISTER, {"input": {"email": "ada@example.com", "password": DEFAULT_PASSWORD}}
    )
    first = client.http.cookies.get(REFRESH_COOKIE)
    assert first

    result = await client.execute(REFRESH)

    assert result.ok()["refresh"]["refreshToken"] is None
    rotated = the_set_cookie(result).value
    assert rotated and rotated != first
    assert client.http.cookies.get(REFRESH_COOKIE) == rotated


async def test_the_cookie_is_only_sent_back_to_the_graphql_path(app: Starlette) -> None:
    async with device(app) as browser:
        await browser.register("ada@example.com")
        health = await browser.http.get("/healthz")
        graphql = browser.http.build_request("POST", "/graphql")

    assert REFRESH_COOKIE not in health.request.headers.get("cookie", "")
    assert REFRESH_COOKIE in graphql.headers.get("cookie", "")


async def test_a_failed_login_sets_no_refresh_cookie(client: GraphQLClient) -> None:
    await client.register("ada@example.com")
    client.http.cookies.clear()

    result = await client.execute(
        LOGIN, {"input": {"email": "ada@example.com", "password": "wrong password!"}}
    )

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert "set-cookie" not in result.http.headers
