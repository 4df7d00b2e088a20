"""register: creates a user and an empty profile in one transaction and signs them in."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.graphql import REGISTER, GraphQLClient


async def count_rows(engine: AsyncEngine, table: str) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_register_returns_tokens_and_the_new_user(client: GraphQLClient) -> None:
    account = await client.register("New.User@Example.COM", firstName="Ada", lastName="Byron")

    me = (
        await client.execute(
            "{ me { email firstName lastName isStaff } }", token=account.access_token
        )
    ).ok()
    assert me["me"] == {
        "email": "new.user@example.com",
        "firstName": "Ada",
        "lastName": "Byron",
        "isStaff": False,
    }


async def test_register_creates_user_profile_and_audit_row_together(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    await client.register("alice@example.com")

    assert await count_rows(engine, "users") == 1
    assert await count_rows(engine, "user_profiles") == 1
    assert await count_rows(engine, "audit_logs") == 1


async def test_register_rejects_a_short_password_with_field_errors(client: GraphQLClient) -> None:
    result = await client.execute(
        REGISTER, {"input": {"email": "a@example.com", "password": "short"}}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "password" in result.errors[0]["extensions"]["fields"]


async def test_register_rejects_a_common_password(client: GraphQLClient) -> None:
    result = await client.execute(
        REGISTER, {"input": {"email": "a@example.com", "password": "Password1"}}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "too common" in result.errors[0]["extensions"]["fields"]["password"][0]


async def test_register_rejects_a_password_over_128_characters(client: GraphQLClient) -> None:
    result = await client.execute(
        REGISTER, {"input": {"email": "a@example.com", "password": "x" * 129}}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "password" in result.errors[0]["extensions"]["fields"]


async def test_register_accepts_a_password_of_exactly_128_characters(client: GraphQLClient) -> None:
    await client.register("a@example.com", password="Zq9" + "x" * 125)


async def test_failed_register_writes_nothing(client: GraphQLClient, engine: AsyncEngine) -> None:
    await client.execute(REGISTER, {"input": {"email": "not-an-email", "password": "short"}})

    assert await count_rows(engine, "users") == 0
    assert await count_rows(engine, "audit_logs") == 0


async def test_duplicate_email_in_any_case_is_a_conflict(client: GraphQLClient) -> None:
    await client.register("taken@example.com")

    result = await client.execute(
        REGISTER, {"input": {"email": "TAKEN@example.com", "password": "another fine password"}}
    )

    assert result.error_codes == ["CONFLICT"]


async def test_concurrent_registrations_of_one_email_let_exactly_one_win(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    variables = {"input": {"email": "race@example.com", "password": "a racing password"}}

    results = await asyncio.gather(*(client.execute(REGISTER, variables) for _ in range(4)))

    winners = [r for r in results if not r.errors]
    assert len(winners) == 1
    assert sorted(code for r in results for code in r.error_codes) == ["CONFLICT"] * 3
    assert await count_rows(engine, "users") == 1
