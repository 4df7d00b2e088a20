"""Every GraphQL error carries the contract's extensions.code; internal failures never leak
their message; every response carries an X-Request-ID."""

from __future__ import annotations

import re
import uuid

import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.execution.values import get_variable_values

from api.errors import AppError, BadUserInput, Conflict, NotFound, Unauthenticated
from schema.errors import INTERNAL_MESSAGE, format_error
from schema.root import schema as app_schema
from tests.support.graphql import GraphQLClient, Response

CONTRACT_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "RATE_LIMITED",
    "PERSISTED_QUERY_NOT_FOUND",
    "GRAPHQL_VALIDATION_FAILED",
    "INTERNAL_SERVER_ERROR",
}
LOGOUT_WITH_VARIABLE = "mutation Out($e: Boolean) { logout(everywhere: $e) }"


def assert_every_error_has_a_code(result: Response) -> None:
    assert result.errors, result.body
    for error in result.errors:
        assert isinstance(error.get("extensions", {}).get("code"), str), error


async def test_a_syntax_error_is_graphql_validation_failed(client: GraphQLClient) -> None:
    result = await client.execute("{ me { id ")

    assert_every_error_has_a_code(result)
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Syntax Error" in result.errors[0]["message"]


async def test_an_unknown_field_is_graphql_validation_failed(client: GraphQLClient) -> None:
    result = await client.execute("{ me { id passwordHash } }")

    assert_every_error_has_a_code(result)
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "passwordHash" in result.errors[0]["message"]


async def test_an_unknown_argument_is_graphql_validation_failed(client: GraphQLClient) -> None:
    result = await client.execute("mutation { logout(forever: true) }")

    assert_every_error_has_a_code(result)
    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_variable_of_the_wrong_type_is_bad_user_input(client: GraphQLClient) -> None:
    result = await client.execute(LOGOUT_WITH_VARIABLE, {"e": "yes"})

    assert_every_error_has_a_code(result)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["e"]
    assert result.data is None


async def test_a_missing_required_variable_is_bad_user_input(client: GraphQLClient) -> None:
    result = await client.execute("mutation Revoke($id: ID!) { revokeSession(id: $id) }")

    assert_every_error_has_a_code(result)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "id" in result.errors[0]["extensions"]["fields"]


async def test_an_undefined_variable_is_graphql_validation_failed(client: GraphQLClient) -> None:
    result = await client.execute("mutation { revokeSession(id: $x) }")

    assert_every_error_has_a_code(result)
    assert set(result.error_codes) == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize(
    "query",
    [
        "query Q($x: Int) { me { id } }",  # never used
        "mutation M($x: Boolean) { revokeSession(id: $x) }",  # used where an ID! is expected
    ],
)
async def test_an_invalid_use_of_a_variable_in_the_document_is_graphql_validation_failed(
    client: GraphQLClient, query: str
) -> None:
    result = await client.execute(query)

    assert_every_error_has_a_code(result)
    assert set(result.error_codes) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_an_app_error_keeps_its_message_and_code(client: GraphQLClient) -> None:
    result = await client.execute(
        'mutation { revokeSession(id: "00000000-0000-0000-0000-000000000000") }'
    )

    assert_every_error_has_a_code(result)
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.errors[0]["message"] == Unauthenticated.default_message
    assert result.errors[0]["path"] == ["revokeSession"]


async def test_a_bad_user_input_error_carries_its_fields(client: GraphQLClient) -> None:
    result = await client.execute('mutation { revokeSession(id: "not-a-uuid") }')

    assert_every_error_has_a_code(result)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors[0]["extensions"]["fields"] == {"id": ["Not a valid id."]}


def test_format_error_makes_a_variable_coercion_error_bad_user_input() -> None:
    # Given the error graphql-core itself reports for a variable of the wrong type
    document = parse(LOGOUT_WITH_VARIABLE)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    definitions = operation.variable_definitions or ()
    errors = get_variable_values(app_schema._schema, definitions, {"e": "yes"})
    assert isinstance(errors, list)
    (error,) = errors

    formatted = format_error(error)

    assert formatted.extensions is not None
    assert formatted.extensions["code"] == "BAD_USER_INPUT"
    assert list(formatted.extensions["fields"]) == ["e"]
    assert "$e" in formatted.message


@pytest.mark.parametrize("content", [b'{"query": ""}', b"{not json", b'{"variables": {}}'])
async def test_a_malformed_request_answers_a_graphql_error_with_a_code(
    client: GraphQLClient, content: bytes
) -> None:
    reply = await client.http.post(
        "/graphql", content=content, headers={"content-type": "application/json"}
    )

    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/")
    errors = reply.json()["errors"]
    assert errors
    assert all(e["extensions"]["code"] in CONTRACT_CODES for e in errors)


def test_format_error_hides_an_unexpected_exception() -> None:
    secret = "secret SQL: SELECT password_hash FROM users WHERE email = 'ada@example.com'"
    error = GraphQLError("boom", path=["me"], original_error=RuntimeError(secret))

    formatted = format_error(error, request_id="req-1")

    assert formatted.message == INTERNAL_MESSAGE
    assert formatted.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert formatted.original_error is None
    assert formatted.path == ["me"]
    assert "secret" not in repr(formatted.formatted)
    assert "password_hash" not in repr(formatted.formatted)


@pytest.mark.parametrize(
    ("app_error", "extensions"),
    [
        (NotFound("No such session."), {"code": "NOT_FOUND"}),
        (Conflict("This username is taken."), {"code": "CONFLICT"}),
        (
            BadUserInput({"phone": ["Enter a phone number."]}, "Fix the phone."),
            {"code": "BAD_USER_INPUT", "fields": {"phone": ["Enter a phone number."]}},
        ),
    ],
)
def test_format_error_keeps_an_app_errors_message_and_code(
    app_error: AppError, extensions: dict[str, object]
) -> None:
    error = GraphQLError("wrapped", path=["x"], original_error=app_error)

    formatted = format_error(error)

    assert formatted.message == app_error.message
    assert formatted.extensions == extensions


def test_format_error_is_idempotent() -> None:
    error = GraphQLError("boom", original_error=RuntimeError("secret SQL"))

    once = format_error(error)
    twice = format_error(once)

    assert twice.formatted == once.formatted


def test_format_error_unwraps_a_nested_graphql_error() -> None:
    inner = GraphQLError("secret SQL: DELETE FROM users", original_error=RuntimeError("boom"))
    outer = GraphQLError("secret SQL: DELETE FROM users", path=["me"], original_error=inner)

    formatted = format_error(outer)

    assert formatted.message == INTERNAL_MESSAGE
    assert formatted.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in repr(formatted.formatted)


def test_format_error_finds_an_app_error_behind_a_graphql_error() -> None:
    inner = GraphQLError("wrapped", original_error=NotFound("No such session."))
    outer = GraphQLError("outer", path=["revokeSession"], original_error=inner)

    formatted = format_error(outer)

    assert formatted.message == "No such session."
    assert formatted.extensions == {"code": "NOT_FOUND"}


async def test_every_response_carries_a_request_id(client: GraphQLClient) -> None:
    first = await client.execute("{ me { id } }")
    second = await client.execute("{ me { id } }")

    ids = [first.http.headers.get("x-request-id"), second.http.headers.get("x-request-id")]
    assert all(ids)
    assert ids[0] != ids[1]


async def test_an_error_response_carries_a_request_id(client: GraphQLClient) -> None:
    result = await client.execute("{ me { nope } }")

    assert result.http.headers.get("x-request-id")


async def test_a_well_formed_incoming_request_id_is_echoed(client: GraphQLClient) -> None:
    incoming = f"web-{uuid.uuid4()}"

    result = await client.execute("{ me { id } }", headers={"x-request-id": incoming})

    assert result.http.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", ["has spaces in it", "x" * 65, "semi;colon", "<script>"])
async def test_a_malformed_incoming_request_id_is_replaced(
    client: GraphQLClient, incoming: str
) -> None:
    result = await client.execute("{ me { id } }", headers={"x-request-id": incoming})

    echoed = result.http.headers["x-request-id"]
    assert echoed != incoming
    assert re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", echoed)
