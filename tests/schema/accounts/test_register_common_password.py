"""register refuses a password from the common-password list and accepts a strong one."""

from __future__ import annotations

import secrets

from tests.support.graphql import REGISTER, GraphQLClient


async def test_register_refuses_password123_as_too_common(client: GraphQLClient) -> None:
    result = await client.execute(
        REGISTER, {"input": {"email": "a@example.com", "password": "password123"}}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    fields = result.errors[0]["extensions"]["fields"]
    assert list(fields) == ["password"]
    assert "too common" in fields["password"][0]


async def test_register_accepts_a_strong_random_password(client: GraphQLClient) -> None:
    account = await client.register("a@example.com", password=secrets.token_urlsafe(24))

    assert account.access_token
