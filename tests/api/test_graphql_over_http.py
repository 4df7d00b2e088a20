"""GraphQL over HTTP: media types, status codes and malformed requests.

A client accepting application/graphql-response+json (Apollo Client 4) gets it, with 400
for request errors; anyone else gets application/json and 200 for every well-formed
request, the spec's legacy rules. Requests that are not GraphQL requests at all get a 4xx
with a GraphQL error body, never a 500 or plain text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.app import create_app
from api.settings import Settings
from tests.conftest import make_settings
from tests.support.graphql import DEFAULT_PASSWORD, REGISTER, GraphQLClient

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
APOLLO_CLIENT_4_ACCEPT = "application/graphql-response+json,application/json;q=0.9"
# A GET runs only with a header forcing a CORS preflight (CSRF prevention; tests/hardening).
PREFLIGHT = {"apollo-require-preflight": "true"}
DEFAULT_MAX_BODY_BYTES = 100 * 1024

TYPENAME = {"query": "{ __typename }"}
PARSE_ERROR = {"query": "{ me { id "}
VALIDATION_ERROR = {"query": "{ me { passwordHash } }"}
COERCION_ERROR = {
    "query": "mutation Out($e: Boolean) { logout(everywhere: $e) }",
    "variables": {"e": "yes"},
}
UNKNOWN_OPERATION = {"query": "query A { __typename }", "operationName": "B"}
REQUEST_ERRORS = {
    "parse error": PARSE_ERROR,
    "validation error": VALIDATION_ERROR,
    "variable coercion failure": COERCION_ERROR,
    "unknown operation name": UNKNOWN_OPERATION,
}


async def post(
    client: GraphQLClient,
    body: dict[str, Any] | bytes,
    *,
    accept: str | None = None,
    content_type: str | None = JSON,
) -> httpx.Response:
    """POST exactly these bytes, with no Accept or Content-Type header when given None."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = client.http.build_request("POST", "/graphql", content=content)
    for name, value in (("accept", accept), ("content-type", content_type)):
        if value is None:
            # httpx adds Accept: */* by default.
            request.headers.pop(name, None)
        else:
            request.headers[name] = value
    return await client.http.send(request)


def media_type(reply: httpx.Response) -> str:
    return reply.headers["content-type"].split(";")[0].strip()


def assert_graphql_error(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A response with no data, only errors, each with the contract's code."""
    assert reply.status_code == status, reply.text
    assert media_type(reply) in (JSON, GRAPHQL_RESPONSE_JSON)
    body: dict[str, Any] = reply.json()
    assert set(body) == {"errors"}, body
    assert body["errors"], body
    for error in body["errors"]:
        assert isinstance(error["message"], str) and error["message"]
        assert error["extensions"]["code"] == code, error
    return body


def assert_malformed(reply: httpx.Response, status: int = 400) -> None:
    assert_graphql_error(reply, status, "GRAPHQL_VALIDATION_FAILED")


# Media types


async def test_apollo_client_4_gets_graphql_response_json(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME, accept=APOLLO_CLIENT_4_ACCEPT)

    assert reply.status_code == 200
    assert media_type(reply) == GRAPHQL_RESPONSE_JSON
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_client_accepting_only_json_gets_json(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME, accept=JSON)

    assert reply.status_code == 200
    assert media_type(reply) == JSON


async def test_a_request_without_accept_gets_json(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME, accept=None)

    assert "accept" not in reply.request.headers
    assert reply.status_code == 200
    assert media_type(reply) == JSON


async def test_a_wildcard_accept_gets_json(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME, accept="*/*")

    assert media_type(reply) == JSON


async def test_json_preferred_by_quality_wins(client: GraphQLClient) -> None:
    reply = await post(
        client, TYPENAME, accept="application/graphql-response+json;q=0.5, application/json"
    )

    assert media_type(reply) == JSON


async def test_an_accept_naming_neither_type_gets_json(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME, accept="text/html")

    assert reply.status_code == 200
    assert media_type(reply) == JSON


async def test_a_transport_error_uses_the_accepted_media_type(client: GraphQLClient) -> None:
    reply = await post(client, b"{not json", accept=APOLLO_CLIENT_4_ACCEPT)

    assert_malformed(reply)
    assert media_type(reply) == GRAPHQL_RESPONSE_JSON


async def test_responses_vary_on_accept(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME)

    assert "accept" in reply.headers["vary"].lower()


# Status codes: execution


async def test_an_executed_operation_is_200_with_data(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME, accept=APOLLO_CLIENT_4_ACCEPT)

    assert reply.status_code == 200
    assert reply.json()["data"] == {"__typename": "Query"}


async def test_a_field_error_after_execution_is_200_with_null_data(
    client: GraphQLClient,
) -> None:
    reply = await post(
        client,
        {"query": 'mutation { revokeSession(id: "00000000-0000-0000-0000-000000000000") }'},
        accept=APOLLO_CLIENT_4_ACCEPT,
    )

    assert reply.status_code == 200
    body = reply.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["revokeSession"]


# Status codes: request errors (no execution, so no data entry)


async def test_a_parse_error_is_400_for_graphql_response_json(client: GraphQLClient) -> None:
    reply = await post(client, PARSE_ERROR, accept=APOLLO_CLIENT_4_ACCEPT)

    body = assert_graphql_error(reply, 400, "GRAPHQL_VALIDATION_FAILED")
    assert "Syntax Error" in body["errors"][0]["message"]


async def test_a_validation_error_is_400_for_graphql_response_json(
    client: GraphQLClient,
) -> None:
    reply = await post(client, VALIDATION_ERROR, accept=APOLLO_CLIENT_4_ACCEPT)

    body = assert_graphql_error(reply, 400, "GRAPHQL_VALIDATION_FAILED")
    assert "passwordHash" in body["errors"][0]["message"]


async def test_a_variable_coercion_failure_is_400_bad_user_input_for_graphql_response_json(
    client: GraphQLClient,
) -> None:
    reply = await post(client, COERCION_ERROR, accept=APOLLO_CLIENT_4_ACCEPT)

    body = assert_graphql_error(reply, 400, "BAD_USER_INPUT")
    assert list(body["errors"][0]["extensions"]["fields"]) == ["e"]


async def test_an_unknown_operation_name_is_400_for_graphql_response_json(
    client: GraphQLClient,
) -> None:
    reply = await post(client, UNKNOWN_OPERATION, accept=APOLLO_CLIENT_4_ACCEPT)

    assert_graphql_error(reply, 400, "GRAPHQL_VALIDATION_FAILED")


@pytest.mark.parametrize("body", REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
async def test_a_request_error_is_200_without_data_for_legacy_json(
    client: GraphQLClient, body: dict[str, Any]
) -> None:
    reply = await post(client, body, accept=JSON)

    assert reply.status_code == 200
    assert media_type(reply) == JSON
    assert set(reply.json()) == {"errors"}


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_http_is_a_request_error(
    client: GraphQLClient, method: str
) -> None:
    subscription = {"query": "subscription { auditLogAdded { id } }"}
    headers = {"accept": APOLLO_CLIENT_4_ACCEPT, **PREFLIGHT}
    if method == "GET":
        reply = await client.http.get("/graphql", params=subscription, headers=headers)
    else:
        reply = await post(client, subscription, accept=APOLLO_CLIENT_4_ACCEPT)

    assert_graphql_error(reply, 400, "GRAPHQL_VALIDATION_FAILED")


# GET


async def test_a_query_over_get_executes(client: GraphQLClient) -> None:
    reply = await client.http.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"accept": APOLLO_CLIENT_4_ACCEPT, **PREFLIGHT},
    )

    assert reply.status_code == 200
    assert media_type(reply) == GRAPHQL_RESPONSE_JSON
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_query_over_get_takes_json_variables(client: GraphQLClient) -> None:
    reply = await client.http.get(
        "/graphql",
        params={
            "query": "query T($name: String!) { __type(name: $name) { name } }",
            "variables": json.dumps({"name": "User"}),
        },
        headers=PREFLIGHT,
    )

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__type": {"name": "User"}}}


async def test_a_get_without_a_query_is_400(client: GraphQLClient) -> None:
    reply = await client.http.get("/graphql", headers={"accept": "text/html", **PREFLIGHT})

    assert_malformed(reply)


async def test_malformed_json_variables_over_get_are_400(client: GraphQLClient) -> None:
    reply = await client.http.get(
        "/graphql", params={"query": "{ __typename }", "variables": "{not json"}, headers=PREFLIGHT
    )

    assert_malformed(reply)


async def test_a_mutation_over_get_is_405_allowing_post(client: GraphQLClient) -> None:
    reply = await client.http.get(
        "/graphql", params={"query": "mutation { logout }"}, headers={"accept": JSON, **PREFLIGHT}
    )

    assert_malformed(reply, 405)
    assert reply.headers["allow"] == "POST"


async def test_a_mutation_over_get_is_not_executed(client: GraphQLClient) -> None:
    variables = {"input": {"email": "get@example.com", "password": DEFAULT_PASSWORD}}
    refused = await client.http.get(
        "/graphql",
        params={"query": REGISTER, "variables": json.dumps(variables)},
        headers=PREFLIGHT,
    )

    assert refused.status_code == 405
    # Registering the same email over POST still works: the GET registered nobody.
    registered = await client.execute(REGISTER, variables)
    assert registered.ok()["register"]["user"]["email"] == "get@example.com"


# Other methods


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "HEAD"])
async def test_an_unsupported_method_is_405_allowing_get_and_post(
    client: GraphQLClient, method: str
) -> None:
    reply = await client.http.request(
        method, "/graphql", content=json.dumps(TYPENAME), headers={"content-type": JSON}
    )

    assert reply.status_code == 405
    assert reply.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert_malformed(reply, 405)


# Content types


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/json; charset=utf-16",
        None,
    ],
)
async def test_an_unsupported_content_type_is_415(
    client: GraphQLClient, content_type: str | None
) -> None:
    reply = await post(client, TYPENAME, content_type=content_type)

    assert_malformed(reply, 415)


async def test_utf8_json_with_a_charset_is_accepted(client: GraphQLClient) -> None:
    reply = await post(client, TYPENAME, content_type="application/json; charset=UTF-8")

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__typename": "Query"}}


# Body size


def padded_body(size: int) -> bytes:
    """A valid request of exactly `size` bytes: JSON allows any whitespace."""
    head = b'{"query": "{ __typename }"'
    return head + b" " * (size - len(head) - 1) + b"}"


async def test_a_body_at_the_limit_is_accepted(client: GraphQLClient) -> None:
    reply = await post(client, padded_body(DEFAULT_MAX_BODY_BYTES))

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_body_over_the_limit_is_413(client: GraphQLClient) -> None:
    reply = await post(client, padded_body(DEFAULT_MAX_BODY_BYTES + 1))

    assert_malformed(reply, 413)


async def test_a_chunked_body_over_the_limit_is_413(client: GraphQLClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        body = padded_body(DEFAULT_MAX_BODY_BYTES + 1)
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    reply = await client.http.post("/graphql", content=chunks(), headers={"content-type": JSON})

    assert "content-length" not in reply.request.headers
    assert_malformed(reply, 413)


def test_max_body_bytes_defaults_to_100_kib() -> None:
    assert Settings.model_fields["max_body_bytes"].default == DEFAULT_MAX_BODY_BYTES


def test_max_body_bytes_is_read_from_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")

    assert Settings().max_body_bytes == 2048


async def test_the_app_enforces_the_configured_limit(database_url: str, redis_url: str) -> None:
    app = create_app(make_settings(database_url, redis_url, max_body_bytes=1024))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            accepted = await http.post(
                "/graphql", content=padded_body(1024), headers={"content-type": JSON}
            )
            refused = await http.post(
                "/graphql", content=padded_body(1025), headers={"content-type": JSON}
            )

    assert accepted.status_code == 200
    assert_malformed(refused, 413)


# Malformed bodies: each a 400 with a GraphQL error, never a 500


async def test_invalid_json_is_400(client: GraphQLClient) -> None:
    assert_malformed(await post(client, b'{"query": "{ __typename }"'))


async def test_an_empty_body_is_400(client: GraphQLClient) -> None:
    assert_malformed(await post(client, b""))


async def test_json_nested_past_the_parser_recursion_limit_is_400(client: GraphQLClient) -> None:
    assert_malformed(await post(client, b"[" * 100_000))


async def test_deeply_nested_variables_are_400(client: GraphQLClient) -> None:
    nested: Any = "leaf"
    for _ in range(100):
        nested = {"child": nested}

    reply = await post(client, {**TYPENAME, "variables": {"deep": nested}})

    assert_malformed(reply)


@pytest.mark.parametrize("number", [b"1" * 5000, b"1" * 400, b"-" + b"9" * 400, b"1e400"])
async def test_a_number_out_of_range_is_400(client: GraphQLClient, number: bytes) -> None:
    body = b'{"query": "{ __typename }", "variables": {"n": ' + number + b"}}"

    assert_malformed(await post(client, body))


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
async def test_a_non_json_number_constant_is_400(client: GraphQLClient, constant: bytes) -> None:
    body = b'{"query": "{ __typename }", "variables": {"n": ' + constant + b"}}"

    assert_malformed(await post(client, body))


async def test_invalid_utf8_is_400(client: GraphQLClient) -> None:
    assert_malformed(await post(client, b'{"query": "{ __typename \xff\xfe }"}'))


async def test_a_utf16_body_is_400(client: GraphQLClient) -> None:
    assert_malformed(await post(client, json.dumps(TYPENAME).encode("utf-16")))


async def test_a_lone_utf16_surrogate_escape_is_400(client: GraphQLClient) -> None:
    body = b'{"query": "query Q($s: String!) { __type(name: $s) { name } }", '
    body += b'"variables": {"s": "\\ud800"}}'

    assert_malformed(await post(client, body))


async def test_a_surrogate_pair_escape_is_accepted(client: GraphQLClient) -> None:
    body = b'{"query": "query Q($s: String!) { __type(name: $s) { name } }", '
    body += b'"variables": {"s": "Run\\ud83c\\udfc3"}}'

    reply = await post(client, body)

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__type": None}}


@pytest.mark.parametrize(
    "body", [b"[]", b'[{"query": "{ __typename }"}]', b'"{ __typename }"', b"42", b"true", b"null"]
)
async def test_a_body_that_is_not_an_object_is_400(client: GraphQLClient, body: bytes) -> None:
    assert_malformed(await post(client, body))


async def test_a_missing_query_is_400(client: GraphQLClient) -> None:
    assert_malformed(await post(client, {"qeury": "{ __typename }"}))


async def test_an_empty_query_is_400(client: GraphQLClient) -> None:
    assert_malformed(await post(client, {"query": ""}))


@pytest.mark.parametrize("query", [{"obj": "ect"}, 0, False, ["{ __typename }"]])
async def test_a_query_that_is_not_a_string_is_400(client: GraphQLClient, query: object) -> None:
    assert_malformed(await post(client, {"query": query}))


@pytest.mark.parametrize("variables", ["{}", 0, False, [{"a": 1}]])
async def test_variables_that_are_not_an_object_are_400(
    client: GraphQLClient, variables: object
) -> None:
    assert_malformed(await post(client, {**TYPENAME, "variables": variables}))


@pytest.mark.parametrize("extensions", ["{}", 0, False, [{"a": 1}]])
async def test_extensions_that_are_not_an_object_are_400(
    client: GraphQLClient, extensions: object
) -> None:
    assert_malformed(await post(client, {**TYPENAME, "extensions": extensions}))


@pytest.mark.parametrize("operation_name", [{"obj": "ect"}, 0, False, ["A"]])
async def test_an_operation_name_that_is_not_a_string_is_400(
    client: GraphQLClient, operation_name: object
) -> None:
    assert_malformed(await post(client, {**TYPENAME, "operationName": operation_name}))


@pytest.mark.parametrize("value", ["yes", 1, 1.5, {"a": 1}, ["x"]])
async def test_a_variable_of_the_wrong_type_is_bad_user_input(
    client: GraphQLClient, value: object
) -> None:
    body = {"query": COERCION_ERROR["query"], "variables": {"e": value}}

    reply = await post(client, body, accept=APOLLO_CLIENT_4_ACCEPT)

    assert_graphql_error(reply, 400, "BAD_USER_INPUT")
