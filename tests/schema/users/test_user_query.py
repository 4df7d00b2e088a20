"""user(id): staff read anyone; everyone else only themselves."""

from __future__ import annotations

import uuid

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.graphql import GraphQLClient
from tests.support.staff import T0, USER, insert_user, register_staff


async def test_staff_reads_any_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register(
        "ada@example.com", username="ada", firstName="Ada", lastName="Byron"
    )

    result = await client.execute(USER, {"id": ada.id}, token=staff.access_token)

    user = result.ok()["user"]
    assert {k: user[k] for k in ("id", "email", "username", "firstName", "lastName")} == {
        "id": ada.id,
        "email": "ada@example.com",
        "username": "ada",
        "firstName": "Ada",
        "lastName": "Byron",
    }
    assert (user["isActive"], user["isStaff"], user["lastLogin"]) == (True, False, None)


async def test_staff_reads_a_deactivated_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    gone = await insert_user(engine, "gone@example.com", is_active=False, deleted_at=T0)

    result = await client.execute(USER, {"id": gone}, token=staff.access_token)

    assert result.ok()["user"]["id"] == gone
    assert result.ok()["user"]["isActive"] is False


async def test_a_soft_deleted_user_reads_as_inactive_even_if_is_active_is_set(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    gone = await insert_user(engine, "gone@example.com", is_active=True, deleted_at=T0)

    result = await client.execute(USER, {"id": gone}, token=staff.access_token)

    assert result.ok()["user"]["isActive"] is False


async def test_a_user_reads_themselves(client: GraphQLClient) -> None:
    ada = await client.register("ada@example.com")

    result = await client.execute(USER, {"id": ada.id}, token=ada.access_token)

    assert result.ok()["user"]["email"] == "ada@example.com"


async def test_a_user_reading_another_user_is_forbidden(client: GraphQLClient) -> None:
    mallory = await client.register("mallory@example.com")
    victim = await client.register("victim@example.com")

    result = await client.execute(USER, {"id": victim.id}, token=mallory.access_token)

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data == {"user": None}
    assert "victim@example.com" not in result.http.text


async def test_a_user_reading_another_user_in_any_id_spelling_is_forbidden(
    client: GraphQLClient,
) -> None:
    mallory = await client.register("mallory@example.com")
    victim = await client.register("victim@example.com")
    spellings = [victim.id.upper(), victim.id.replace("-", ""), f"{{{victim.id}}}"]

    for spelling in spellings:
        result = await client.execute(USER, {"id": spelling}, token=mallory.access_token)

        assert result.error_codes == ["FORBIDDEN"], spelling


async def test_a_non_staff_reading_a_nonexistent_id_is_forbidden_not_null(
    client: GraphQLClient,
) -> None:
    mallory = await client.register("mallory@example.com")

    result = await client.execute(USER, {"id": str(uuid.uuid4())}, token=mallory.access_token)

    assert result.error_codes == ["FORBIDDEN"]


async def test_anonymous_reading_a_user_is_unauthenticated(client: GraphQLClient) -> None:
    ada = await client.register("ada@example.com")

    result = await client.execute(USER, {"id": ada.id})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.data == {"user": None}


async def test_a_malformed_id_is_bad_user_input(client: GraphQLClient) -> None:
    ada = await client.register("ada@example.com")

    for malformed in ["not-a-uuid", "", "1", "' OR 1=1 --", "x" * 1000]:
        result = await client.execute(USER, {"id": malformed}, token=ada.access_token)

        assert result.error_codes == ["BAD_USER_INPUT"], malformed
        assert "id" in result.errors[0]["extensions"]["fields"]


async def test_staff_reading_a_nonexistent_id_gets_null(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(USER, {"id": str(uuid.uuid4())}, token=staff.access_token)

    assert result.ok() == {"user": None}
