"""A variable value that does not fit its type is BAD_USER_INPUT naming the variable, the
path inside it and the reason, and never echoes the value back: it may be a password."""

from __future__ import annotations

import pytest

from schema.errors import redact_variable_value
from tests.support.graphql import REGISTER, GraphQLClient

PASSWORD = "hunter2-Never-Echo-7Qx"
USERS = """
query Users($order: UserOrder, $filter: UserFilter, $first: Int) {
  users(orderBy: $order, filter: $filter, first: $first) { totalCount }
}"""


async def test_a_password_in_a_wrongly_typed_input_appears_nowhere(
    client: GraphQLClient,
) -> None:
    # The email is missing and a field is unknown: graphql-core quotes the whole object.
    variables = {"input": {"password": PASSWORD, "emial": "typo@example.com"}}

    result = await client.execute(REGISTER, variables)

    assert result.error_codes == ["BAD_USER_INPUT", "BAD_USER_INPUT"]
    assert PASSWORD not in result.http.text
    assert "typo@example.com" not in result.http.text


async def test_a_password_beside_a_wrongly_typed_field_appears_nowhere(
    client: GraphQLClient,
) -> None:
    variables = {"input": {"email": ["not", "a", "string"], "password": PASSWORD}}

    result = await client.execute(REGISTER, variables)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert PASSWORD not in result.http.text


async def test_the_error_keeps_the_variable_the_path_and_the_reason(
    client: GraphQLClient,
) -> None:
    variables = {"input": {"email": 918273645, "password": PASSWORD}}

    result = await client.execute(REGISTER, variables)

    [error] = result.errors
    expected = (
        "Variable '$input' has an invalid value at 'input.email': "
        "String cannot represent a non string value."
    )
    assert error["message"] == expected
    assert error["extensions"]["fields"] == {"input": [expected]}
    assert "918273645" not in result.http.text


@pytest.mark.parametrize(
    ("variables", "secret"),
    [
        ({"first": "4815162342"}, "4815162342"),
        ({"filter": {"search": 98765432109876}}, "98765432109876"),
        ({"filter": {"isActive": "sometimes-XYZ"}}, "sometimes-XYZ"),
        ({"filter": {"joinedAfter": "yesterday-XYZ"}}, "yesterday-XYZ"),
        ({"order": {"field": "SHOE_SIZE_XYZ"}}, "SHOE_SIZE_XYZ"),
        ({"order": "DESCENDING-XYZ"}, "DESCENDING-XYZ"),
    ],
)
async def test_a_wrongly_typed_scalar_is_not_echoed(
    client: GraphQLClient, variables: dict[str, object], secret: str
) -> None:
    result = await client.execute(USERS, variables)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert secret not in result.http.text


async def test_a_missing_required_variable_keeps_its_message(client: GraphQLClient) -> None:
    result = await client.execute(REGISTER, {})

    assert result.errors[0]["message"] == (
        "Variable '$input' has an invalid value: "
        "Expected a value of non-null type 'RegisterInput!' to be provided."
    )


@pytest.mark.parametrize(
    ("message", "redacted"),
    [
        (
            "Variable '$input' has invalid value at .age: Int cannot represent non-integer "
            "value: 'abc'",
            "Variable '$input' has an invalid value at 'input.age': "
            "Int cannot represent non-integer value.",
        ),
        (
            "Variable '$input' has invalid value: Expected value of type 'LoginInput' not to "
            "include unknown field 'pasword'. Did you mean 'password'? Found: {'pasword': 'x'}.",
            "Variable '$input' has an invalid value: Expected value of type 'LoginInput' not to "
            "include unknown field 'pasword'. Did you mean 'password'?",
        ),
        (
            "Variable '$d' has invalid value: Expected value of type 'DateTime', but "
            "encountered error 'bad: 'x''; found: 'x'.",
            "Variable '$d' has an invalid value: Expected value of type 'DateTime'.",
        ),
        (
            "Variable '$list' has invalid value at [2].name: Something new: 'secret'",
            "Variable '$list' has an invalid value at 'list[2].name': "
            "The value does not fit the variable's type.",
        ),
        (
            # graphql-core 3.2's wording puts the value first.
            "Variable '$input' got invalid value {'password': 'secret'}; Field 'email' of "
            "required type 'String!' was not provided.",
            "Variable '$input' has an invalid value.",
        ),
    ],
)
def test_redaction_of_graphql_core_messages(message: str, redacted: str) -> None:
    assert redact_variable_value(message) == redacted
