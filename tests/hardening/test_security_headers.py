"""Security headers on every response, HSTS in production, CORS for configured origins
only, the refresh cookie's origin check, and the JSON-only POST that defends against
cross-site request forgery."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.hardening.conftest import PREFLIGHT, PRODUCTION, StartApp
from tests.support.accounts import LOGOUT, can_refresh, device, live_session_ids, scalar
from tests.support.graphql import DEFAULT_PASSWORD, REFRESH, REGISTER, GraphQLClient, Response

OWN_ORIGIN = "https://testserver"  # the test clients' base URL
ALLOWED_ORIGIN = "https://shop.glassshop.test"
FOREIGN_ORIGIN = "https://evil.example"
LOCKDOWN_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"

Probe = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def _post(body: object, content_type: str = "application/json") -> Probe:
    async def send(http: httpx.AsyncClient) -> httpx.Response:
        content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).read()
        return await http.post("/graphql", content=content, headers={"content-type": content_type})

    return send


PROBES: dict[str, Probe] = {
    "graphql POST": _post({"query": "{ __typename }"}),
    "graphql GET": lambda http: http.get(
        "/graphql", params={"query": "{ __typename }"}, headers=PREFLIGHT
    ),
    "400 GET without a preflight header": lambda http: http.get(
        "/graphql", params={"query": "{ __typename }"}
    ),
    "graphql field error": _post({"query": "{ users(first: 1) { totalCount } }"}),
    "graphql validation error": _post({"query": "{ nope }"}),
    "415 form post": _post(b"query={__typename}", "application/x-www-form-urlencoded"),
    "405 mutation over GET": lambda http: http.get(
        "/graphql", params={"query": "mutation{logout}"}, headers=PREFLIGHT
    ),
    "405 method": lambda http: http.put("/graphql"),
    "413 body": _post(b"{" + b" " * 200_000 + b"}"),
    "healthz": lambda http: http.get("/healthz"),
    "404 path": lambda http: http.get("/nowhere"),
}


def assert_security_headers(reply: httpx.Response) -> None:
    headers = reply.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert not headers["content-type"].startswith("text/html")
    assert headers["content-security-policy"] == LOCKDOWN_CSP


@pytest.mark.parametrize("probe", PROBES.values(), ids=PROBES.keys())
async def test_every_response_carries_the_security_headers(
    client: GraphQLClient, probe: Probe
) -> None:
    reply = await probe(client.http)

    assert_security_headers(reply)


async def test_a_429_from_the_request_budget_carries_the_security_headers(
    start_app: StartApp,
) -> None:
    app = await start_app(rate_requests_ip="1/60")
    async with device(app) as client:
        await client.execute("{ __typename }")
        limited = await client.http.post("/graphql", json={"query": "{ __typename }"})

    assert limited.status_code == 429
    assert_security_headers(limited)


async def test_production_responses_carry_hsts(start_app: StartApp) -> None:
    app = await start_app(**PRODUCTION)
    async with device(app) as client:
        graphql = await client.execute("{ __typename }")
        health = await client.http.get("/healthz")

    assert graphql.http.headers["strict-transport-security"] == HSTS
    assert health.headers["strict-transport-security"] == HSTS


@pytest.mark.parametrize("app_env", ["test", "development"])
async def test_responses_outside_production_carry_no_hsts(
    start_app: StartApp, app_env: str
) -> None:
    app = await start_app(app_env=app_env)
    async with device(app) as client:
        reply = await client.http.get("/healthz")

    assert "strict-transport-security" not in reply.headers


# CORS


@pytest.fixture
async def cors_app(start_app: StartApp) -> Starlette:
    return await start_app(cors_origins=[ALLOWED_ORIGIN])


async def preflight(app: Starlette, origin: str) -> httpx.Response:
    async with device(app) as client:
        return await client.http.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization",
            },
        )


async def cross_origin_post(app: Starlette, origin: str) -> httpx.Response:
    async with device(app) as client:
        return await client.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"origin": origin}
        )


async def test_a_preflight_from_an_allowed_origin_is_allowed_with_credentials(
    cors_app: Starlette,
) -> None:
    reply = await preflight(cors_app, ALLOWED_ORIGIN)

    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert reply.headers["access-control-allow-credentials"] == "true"
    assert "POST" in reply.headers["access-control-allow-methods"]
    allowed_headers = reply.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed_headers
    assert "authorization" in allowed_headers


async def test_a_request_from_an_allowed_origin_may_be_read_with_credentials(
    cors_app: Starlette,
) -> None:
    reply = await cross_origin_post(cors_app, ALLOWED_ORIGIN)

    assert reply.json() == {"data": {"__typename": "Query"}}
    assert reply.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert reply.headers["access-control-allow-credentials"] == "true"


async def test_a_preflight_from_a_foreign_origin_is_not_allowed(cors_app: Starlette) -> None:
    reply = await preflight(cors_app, FOREIGN_ORIGIN)

    assert reply.status_code >= 400
    # Starlette sends Allow-Credentials on every response; without Allow-Origin a
    # browser grants nothing.
    assert "access-control-allow-origin" not in reply.headers


async def test_a_request_from_a_foreign_origin_gets_no_cors_headers(cors_app: Starlette) -> None:
    reply = await cross_origin_post(cors_app, FOREIGN_ORIGIN)

    assert "access-control-allow-origin" not in reply.headers


async def test_without_cors_origins_no_origin_is_allowed(client: GraphQLClient) -> None:
    reply = await client.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": ALLOWED_ORIGIN}
    )

    assert "access-control-allow-origin" not in reply.headers


# The refresh cookie's origin check


async def refresh_by_cookie(client: GraphQLClient, origin: str | None) -> Response:
    headers = {"origin": origin} if origin is not None else {}
    return await client.execute(REFRESH, {"token": None}, headers=headers)


@pytest.mark.parametrize(
    "origin",
    [FOREIGN_ORIGIN, "null", "http://testserver", "https://testserver.evil.example"],
    ids=["foreign", "null", "own host over http", "own host as a prefix"],
)
async def test_refresh_by_cookie_from_a_foreign_origin_is_forbidden_and_rotates_nothing(
    cors_app: Starlette, origin: str
) -> None:
    async with device(cors_app) as browser:
        await browser.register("cookie.victim@example.com")
        cookie_before = browser.http.cookies.get("glassshop_refresh")

        result = await refresh_by_cookie(browser, origin)

        assert result.error_codes == ["FORBIDDEN"]
        assert result.data is None
        assert "set-cookie" not in result.http.headers
        assert browser.http.cookies.get("glassshop_refresh") == cookie_before
        # The cookie still works from the page's own origin.
        assert (await refresh_by_cookie(browser, OWN_ORIGIN)).ok()["refresh"]["accessToken"]


@pytest.mark.parametrize(
    "origin", [OWN_ORIGIN, ALLOWED_ORIGIN, None], ids=["own", "allowed by CORS", "none"]
)
async def test_refresh_by_cookie_from_an_allowed_or_no_origin_works(
    cors_app: Starlette, origin: str | None
) -> None:
    async with device(cors_app) as browser:
        account = await browser.register("cookie.owner@example.com")

        result = await refresh_by_cookie(browser, origin)

    assert result.ok()["refresh"]["user"]["id"] == account.id


async def test_the_refresh_token_argument_is_not_origin_checked(cors_app: Starlette) -> None:
    async with device(cors_app) as app_client:
        account = await app_client.register("body.transport@example.com")
        app_client.http.cookies.clear()

        result = await app_client.execute(
            REFRESH,
            {"token": account.refresh_token},
            headers={"origin": FOREIGN_ORIGIN, "x-refresh-token-transport": "body"},
        )

    assert result.ok()["refresh"]["user"]["id"] == account.id


async def test_logout_by_cookie_from_a_foreign_origin_is_forbidden_and_ends_nothing(
    cors_app: Starlette, engine: AsyncEngine
) -> None:
    async with device(cors_app) as browser:
        account = await browser.register("logout.victim@example.com")

        result = await browser.execute(LOGOUT, {}, headers={"origin": FOREIGN_ORIGIN})

        assert result.error_codes == ["FORBIDDEN"]
        assert len(await live_session_ids(engine, account.id)) == 1
        assert await can_refresh(browser, account.refresh_token)


# Cross-site request forgery: a form or a text/plain fetch cannot send JSON


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
async def test_a_mutation_posted_as_a_simple_cross_site_request_is_415_and_not_run(
    client: GraphQLClient, engine: AsyncEngine, content_type: str
) -> None:
    body = {
        "query": REGISTER,
        "variables": {"input": {"email": "csrf@example.com", "password": DEFAULT_PASSWORD}},
    }

    reply = await _post(body, content_type)(client.http)

    assert reply.status_code == 415
    assert reply.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await scalar(engine, "SELECT count(*) FROM users") == 0
