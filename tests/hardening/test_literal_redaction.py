"""A value written into the document that does not fit its type is refused by validation
naming the type, the field and the reason, never echoing the value back: an inline
password is as secret as one sent in a variable. Syntax errors do not quote strings or
numbers either."""

from __future__ import annotations

import pytest

from schema.errors import redact_literal_value
from tests.hardening.conftest import PRODUCTION, StartApp
from tests.support.accounts import device
from tests.support.graphql import GraphQLClient, Response

PASSWORD = "hunter2-Never-Echo-7Qx"
# The same secret written without quotes: a GraphQL name, read as an enum value.
BARE_PASSWORD = PASSWORD.replace("-", "_")
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def login_with(fields: str) -> str:
    return f"mutation {{ login(input: {{{fields}}}) {{ accessToken }} }}"


def messages(result: Response) -> list[str]:
    assert result.errors, result.body
    assert set(result.error_codes) == {VALIDATION_FAILED}, result.errors
    return [error["message"] for error in result.errors]


async def test_an_inline_input_with_an_unknown_field_does_not_echo_the_password(
    client: GraphQLClient,
) -> None:
    result = await client.execute(login_with(f'email: "a", password: "{PASSWORD}", bogus: 1'))

    assert messages(result) == [
        "Expected value of type 'LoginInput' not to include unknown field 'bogus'."
    ]
    assert PASSWORD not in result.http.text


async def test_an_inline_input_missing_a_required_field_does_not_echo_the_password(
    client: GraphQLClient,
) -> None:
    query = f'mutation {{ register(input: {{password: "{PASSWORD}"}}) {{ accessToken }} }}'

    result = await client.execute(query)

    assert messages(result) == [
        "Expected value of type 'RegisterInput' to include required field 'email'."
    ]
    assert PASSWORD not in result.http.text


async def test_a_misspelled_inline_field_keeps_its_suggestion_but_not_the_password(
    client: GraphQLClient,
) -> None:
    result = await client.execute(login_with(f'email: "a", pasword: "{PASSWORD}"'))

    assert (
        "Expected value of type 'LoginInput' not to include unknown field 'pasword'. "
        "Did you mean 'password'?" in messages(result)
    )
    assert PASSWORD not in result.http.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            login_with(f'email: "a", password: {BARE_PASSWORD}'),
            "String cannot represent a non string value.",
        ),
        (
            "mutation { updateProfile(input: {phone: 4815162342}) { id } }",
            "String cannot represent a non string value.",
        ),
        (
            'mutation { logout(everywhere: "sometimes-XYZ") }',
            "Boolean cannot represent a non boolean value.",
        ),
        (
            "{ node(id: 4815.162342) { id } }",
            "ID cannot represent a non-string and non-integer value.",
        ),
        ("{ users(first: 4815.162342) { totalCount } }", "Int cannot represent non-integer value."),
        (
            '{ users(orderBy: "DESCENDING-XYZ") { totalCount } }',
            "Expected value of type 'UserOrder' to be an object.",
        ),
        (
            '{ auditLogs(filter: {createdAfter: "yesterday-XYZ"}) { totalCount } }',
            "Value cannot represent a DateTime.",
        ),
        (
            '{ auditLogs(filter: {actions: "LOGIN-XYZ"}) { totalCount } }',
            "Enum 'AuditAction' cannot represent non-enum value.",
        ),
        (
            "{ users(orderBy: {field: SHOE_SIZE_XYZ}) { totalCount } }",
            "The value is not one of the 'UserOrderField' enum's values.",
        ),
    ],
)
async def test_a_wrongly_typed_inline_value_is_not_echoed(
    client: GraphQLClient, query: str, message: str
) -> None:
    result = await client.execute(query)

    assert messages(result) == [message]
    for secret in ("4815162342", "4815.162342", "XYZ", BARE_PASSWORD):
        assert secret not in result.http.text


async def test_a_wrongly_typed_variable_default_is_not_echoed(client: GraphQLClient) -> None:
    default = f'{{secret: "{PASSWORD}"}}'
    query = f"query Q($s: String = {default}) {{ users(filter: {{search: $s}}) {{ totalCount }} }}"

    result = await client.execute(query)

    assert messages(result) == ["String cannot represent a non string value."]
    assert PASSWORD not in result.http.text


async def test_a_syntax_error_does_not_quote_a_string(client: GraphQLClient) -> None:
    result = await client.execute(login_with(f'email: "a", "{PASSWORD}"'))

    assert messages(result) == ["Syntax Error: Expected Name, found String."]
    assert PASSWORD not in result.http.text


async def test_production_literal_errors_carry_neither_value_nor_suggestion(
    start_app: StartApp,
) -> None:
    app = await start_app(**PRODUCTION)
    async with device(app) as client:
        result = await client.execute(login_with(f'email: "a", pasword: "{PASSWORD}"'))

    assert "Expected value of type 'LoginInput' not to include unknown field 'pasword'." in (
        messages(result)
    )
    assert PASSWORD not in result.http.text
    assert "Did you mean" not in result.http.text


@pytest.mark.parametrize(
    ("message", "redacted"),
    [
        (
            "Expected value of type 'LoginInput' not to include unknown field 'bogus', found: "
            '{ email: "a", password: "hunter2", bogus: 1 }.',
            "Expected value of type 'LoginInput' not to include unknown field 'bogus'.",
        ),
        (
            "Value 'LOGN' does not exist in 'AuditAction' enum. Did you mean the enum value "
            "'LOGIN'?",
            "The value is not one of the 'AuditAction' enum's values. "
            "Did you mean the enum value 'LOGIN'?",
        ),
        (
            "Enum 'AuditAction' cannot represent non-enum value: \"LOGIN\". "
            "Did you mean the enum value 'LOGIN'?",
            "Enum 'AuditAction' cannot represent non-enum value. "
            "Did you mean the enum value 'LOGIN'?",
        ),
        (
            "Syntax Error: Unexpected BlockString 'secret\nlines'.",
            "Syntax Error: Unexpected BlockString.",
        ),
        (
            "Syntax Error: Expected Name, found Int '4815162342'.",
            "Syntax Error: Expected Name, found Int.",
        ),
        # Messages about the document's names, not its values, are kept whole.
        (
            "Cannot query field 'passwordHash' on type 'User'.",
            "Cannot query field 'passwordHash' on type 'User'.",
        ),
        ("Syntax Error: Expected Name, found '}'.", "Syntax Error: Expected Name, found '}'."),
        (
            "Expected value of non-null type 'String!' not to be None.",
            "Expected value of non-null type 'String!' not to be None.",
        ),
    ],
)
def test_redaction_of_graphql_core_literal_messages(message: str, redacted: str) -> None:
    assert redact_literal_value(message) == redacted
