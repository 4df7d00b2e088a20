"""An argument written in the document whose variables do not fit it only fails when its
field executes: that is the client's input at fault, BAD_USER_INPUT naming the argument,
never an internal error. A JSON value takes the variables written inside it; one that was
not sent is such a failure, whichever JSON argument holds it."""

from __future__ import annotations

import logging

import pytest

from tests.support.graphql import DEFAULT_PASSWORD, GraphQLClient

UPDATE = """
mutation Update(%s) { updateProfile(input: {%s}) { profile { preferences metadata } } }"""
ME_PROFILE = "query { me { profile { preferences metadata } } }"


def update(fields: str, variables: str = "$v: String") -> str:
    return UPDATE % (variables, fields)


@pytest.mark.parametrize("field", ["preferences", "metadata"])
async def test_an_unsent_variable_inside_a_json_value_is_bad_user_input(
    client: GraphQLClient, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    account = await client.register("json.literal@example.com")

    with caplog.at_level(logging.ERROR, logger="glassshop.errors"):
        result = await client.execute(update(f"{field}: {{a: $v}}"), {}, token=account.access_token)

    [error] = result.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fields"] == {"input": [error["message"]]}
    assert "'$v'" in error["message"]
    assert caplog.records == []
    after = await client.execute(ME_PROFILE, token=account.access_token)
    assert after.ok()["me"]["profile"] == {"preferences": {}, "metadata": {}}


async def test_an_unsent_variable_inside_a_json_list_is_bad_user_input(
    client: GraphQLClient,
) -> None:
    account = await client.register("json.list@example.com")

    result = await client.execute(
        update("preferences: {a: [1, {b: $v}]}"), {}, token=account.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_variables_inside_a_json_value_take_their_sent_or_default_values(
    client: GraphQLClient,
) -> None:
    account = await client.register("json.sent@example.com")

    result = await client.execute(
        update("preferences: {sent: $v, defaulted: [$w]}", '$v: String, $w: String = "fallback"'),
        {"v": "x"},
        token=account.access_token,
    )

    profile = result.ok()["updateProfile"]["profile"]
    assert profile["preferences"] == {"sent": "x", "defaulted": ["fallback"]}


async def test_a_null_variable_in_a_non_null_input_field_is_bad_user_input_naming_the_argument(
    client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Allowed by validation (the variable has a default), refused when login executes.
    query = """mutation Login($email: String = "ada@example.com") {
      login(input: {email: $email, password: "%s"}) { accessToken } }"""

    with caplog.at_level(logging.ERROR, logger="glassshop.errors"):
        result = await client.execute(query % DEFAULT_PASSWORD, {"email": None})

    [error] = result.errors
    assert error["message"] == (
        "Argument 'input' has an invalid value at 'input.email': "
        "Expected variable '$email' provided to non-null type 'String!' not to be None."
    )
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "fields": {"input": [error["message"]]},
    }
    assert result.data is None
    assert DEFAULT_PASSWORD not in result.http.text
    assert caplog.records == []
