"""CSRF prevention, as Apollo Server's: nothing a browser can send cross-site without a
CORS preflight runs.

POST takes only application/json (415 otherwise). A GET runs only with a Content-Type
that is not a simple one, a non-empty CSRF_PREFLIGHT_HEADERS header or a Bearer token;
anything else is 400 before any operation runs. GraphiQL's page is no operation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from api.settings import Settings
from tests.conftest import make_settings
from tests.hardening.conftest import PREFLIGHT, StartApp
from tests.support.accounts import device
from tests.support.graphql import GraphQLClient

TYPENAME = {"query": "{ __typename }"}
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
CSRF_MESSAGE_START = "This operation has been blocked as a potential Cross-Site Request Forgery"
SIMPLE_CONTENT_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    " TEXT/Plain ",
]


def operations_run(app: Starlette, label: str) -> float:
    """How many operations with this label (type:root fields) the app has executed."""
    value = app.state.resources.metrics.registry.get_sample_value(
        "glassshop_graphql_operations_total", {"operation": label}
    )
    return float(value or 0.0)


def assert_csrf_refusal(reply: httpx.Response) -> dict[str, Any]:
    assert reply.status_code == 400, reply.text
    body: dict[str, Any] = reply.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    assert error["message"].startswith(CSRF_MESSAGE_START)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    return body


async def get(client: GraphQLClient, headers: dict[str, str] | None = None) -> httpx.Response:
    return await client.http.get("/graphql", params=TYPENAME, headers=headers)


# GET


async def test_a_get_without_a_preflight_header_is_refused_with_400(
    client: GraphQLClient,
) -> None:
    reply = await get(client)

    body = assert_csrf_refusal(reply)
    assert "apollo-require-preflight, x-apollo-operation-name" in body["errors"][0]["message"]


async def test_a_refused_get_runs_no_operation(app: Starlette, client: GraphQLClient) -> None:
    before = operations_run(app, "query:me")

    reply = await client.http.get("/graphql", params={"query": "{ me { id } }"})

    assert_csrf_refusal(reply)
    assert operations_run(app, "query:me") == before


async def test_an_allowed_get_does_run_its_operation(app: Starlette, client: GraphQLClient) -> None:
    before = operations_run(app, "query:me")

    reply = await client.http.get("/graphql", params={"query": "{ me { id } }"}, headers=PREFLIGHT)

    assert reply.json() == {"data": {"me": None}}
    assert operations_run(app, "query:me") == before + 1


@pytest.mark.parametrize("header", PREFLIGHT_HEADERS)
async def test_a_get_with_a_preflight_header_runs(client: GraphQLClient, header: str) -> None:
    reply = await get(client, {header: "anything"})

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_preflight_header_with_an_empty_value_does_not_count(
    client: GraphQLClient,
) -> None:
    assert_csrf_refusal(await get(client, {"apollo-require-preflight": ""}))


async def test_a_get_with_a_json_content_type_runs(client: GraphQLClient) -> None:
    # What Apollo Client Web sends on a GET.
    reply = await get(client, {"content-type": "application/json"})

    assert reply.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("content_type", SIMPLE_CONTENT_TYPES)
async def test_a_get_with_a_simple_content_type_is_refused(
    client: GraphQLClient, content_type: str
) -> None:
    assert_csrf_refusal(await get(client, {"content-type": content_type}))


async def test_a_simple_content_type_with_a_preflight_header_runs(client: GraphQLClient) -> None:
    reply = await get(client, {"content-type": "text/plain", **PREFLIGHT})

    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_an_unparseable_content_type_counts_as_preflighted(client: GraphQLClient) -> None:
    # Apollo Server's rule: a browser sends no such Content-Type without a preflight.
    reply = await get(client, {"content-type": "not a media type"})

    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_get_with_a_bearer_token_runs(client: GraphQLClient) -> None:
    account = await client.register("csrf.bearer@example.com")

    reply = await client.http.get(
        "/graphql",
        params={"query": "{ me { id } }"},
        headers={"authorization": f"Bearer {account.access_token}"},
    )

    assert reply.json() == {"data": {"me": {"id": account.id}}}


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer ", "Negotiate abc"])
async def test_other_authorization_headers_do_not_count(
    client: GraphQLClient, authorization: str
) -> None:
    # A browser may attach Basic or Negotiate credentials to a cross-site request itself.
    assert_csrf_refusal(await get(client, {"authorization": authorization}))


async def test_a_mutation_over_get_without_a_preflight_header_is_refused_as_csrf(
    client: GraphQLClient,
) -> None:
    reply = await client.http.get("/graphql", params={"query": "mutation { logout }"})

    assert_csrf_refusal(reply)


async def test_a_mutation_over_get_with_a_preflight_header_is_still_405(
    client: GraphQLClient,
) -> None:
    reply = await client.http.get(
        "/graphql", params={"query": "mutation { logout }"}, headers=PREFLIGHT
    )

    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"


# POST


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"],
)
async def test_a_post_with_a_simple_content_type_is_still_415(
    client: GraphQLClient, content_type: str
) -> None:
    reply = await client.http.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers={"content-type": content_type}
    )

    assert reply.status_code == 415
    assert reply.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_post_with_a_simple_content_type_and_a_preflight_header_is_still_415(
    client: GraphQLClient,
) -> None:
    reply = await client.http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"content-type": "text/plain", **PREFLIGHT},
    )

    assert reply.status_code == 415


async def test_a_json_post_needs_no_preflight_header(client: GraphQLClient) -> None:
    result = await client.execute("{ __typename }")

    assert result.ok() == {"__typename": "Query"}


# Settings


async def test_csrf_prevention_off_lets_a_plain_get_run(start_app: StartApp) -> None:
    app = await start_app(csrf_prevention=False)

    async with device(app) as client:
        reply = await get(client)

    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_configured_preflight_headers_replace_the_default_ones(start_app: StartApp) -> None:
    app = await start_app(csrf_preflight_headers=["x-glassshop-client"])

    async with device(app) as client:
        custom = await get(client, {"x-glassshop-client": "ios"})
        default = await get(client, PREFLIGHT)

    assert custom.json() == {"data": {"__typename": "Query"}}
    body = assert_csrf_refusal(default)
    assert "headers: x-glassshop-client" in body["errors"][0]["message"]


def test_csrf_prevention_is_on_by_default_with_apollos_headers() -> None:
    assert Settings.model_fields["csrf_prevention"].default is True
    settings = Settings()
    assert settings.csrf_preflight_headers == [
        "apollo-require-preflight",
        "x-apollo-operation-name",
    ]


def test_preflight_headers_are_read_from_their_variable_in_lower_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CSRF_PREFLIGHT_HEADERS", "X-Client-Name, apollo-require-preflight")
    monkeypatch.setenv("CSRF_PREVENTION", "off")

    settings = Settings()

    assert settings.csrf_preflight_headers == ["x-client-name", "apollo-require-preflight"]
    assert settings.csrf_prevention is False


@pytest.mark.parametrize("header", ["accept", "content-type", "origin", "cookie", "sec-fetch-mode"])
def test_a_header_a_browser_sends_cross_site_cannot_be_a_preflight_header(
    database_url: str, redis_url: str, header: str
) -> None:
    with pytest.raises(ValueError, match="does not force a CORS preflight"):
        make_settings(database_url, redis_url, csrf_preflight_headers=[header])


# Browsers: GraphiQL and CORS


async def test_graphiqls_page_needs_no_preflight_header(start_app: StartApp) -> None:
    app = await start_app(graphiql=True)

    async with device(app) as client:
        page = await client.http.get("/graphql", headers={"accept": "text/html"})

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


async def test_a_cors_preflight_allows_the_preflight_headers(start_app: StartApp) -> None:
    origin = "https://shop.example.com"
    app = await start_app(cors_origins=[origin])

    async with device(app) as client:
        preflight = await client.http.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "GET",
                "access-control-request-headers": ",".join(PREFLIGHT_HEADERS),
            },
        )

    assert preflight.status_code == 200
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert all(header in allowed for header in PREFLIGHT_HEADERS)
