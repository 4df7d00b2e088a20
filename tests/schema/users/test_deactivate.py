"""deactivateUser / reactivateUser: staff soft-delete and restore accounts."""

from __future__ import annotations

import uuid
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from api.infra.cache import USER as CACHED_USER
from tests.support.accounts import (
    CLIENT_IP,
    REFRESH_COOKIE,
    audit_rows,
    can_refresh,
    device,
    is_signed_in,
    live_session_ids,
    make_staff,
)
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, GraphQLClient, Response
from tests.support.staff import (
    DEACTIVATE,
    NODE,
    REACTIVATE,
    USER,
    register_staff,
    users_page,
)


async def login_attempt(client: GraphQLClient, email: str, password: str) -> Response:
    return await client.execute(LOGIN, {"input": {"email": email, "password": password}})


async def deactivate(client: GraphQLClient, token: str, user_id: str) -> Response:
    return await client.execute(DEACTIVATE, {"id": user_id}, token=token)


async def reactivate(client: GraphQLClient, token: str, user_id: str) -> Response:
    return await client.execute(REACTIVATE, {"id": user_id}, token=token)


async def test_staff_deactivating_a_user_gets_the_user_back_inactive(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")

    result = await deactivate(client, staff.access_token, ada.id)

    assert result.ok() == {"deactivateUser": {"id": ada.id, "isActive": False}}


async def test_a_deactivated_user_cannot_log_in_and_gets_the_generic_message(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")
    await client.register("bob@example.com")
    (await deactivate(client, staff.access_token, ada.id)).ok()

    async with device(app) as other:
        refused = await login_attempt(other, "ada@example.com", DEFAULT_PASSWORD)
        wrong_password = await login_attempt(other, "bob@example.com", "not the password")

    assert refused.error_codes == ["UNAUTHENTICATED"]
    assert refused.errors[0]["message"] == wrong_password.errors[0]["message"]
    assert refused.data is None


async def test_a_deactivated_users_access_token_is_refused_by_me(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    async with device(app) as ada_client:
        ada = await ada_client.register("ada@example.com")
        assert await is_signed_in(ada_client, ada.access_token)  # and cached by the app

        (await deactivate(client, staff.access_token, ada.id)).ok()

        assert not await is_signed_in(ada_client, ada.access_token)


async def test_a_deactivated_users_refresh_token_no_longer_works(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    async with device(app) as ada_client:
        ada = await ada_client.register("ada@example.com")

        (await deactivate(client, staff.access_token, ada.id)).ok()

        assert not await can_refresh(ada_client, ada.refresh_token)
        # Nor through the cookie the browser still holds.
        assert ada_client.http.cookies.get(REFRESH_COOKIE)
        assert (await ada_client.refresh(None)).error_codes == ["UNAUTHENTICATED"]


async def test_deactivation_ends_every_session_of_the_user(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    async with device(app) as laptop, device(app) as phone:
        ada = await laptop.register("ada@example.com")
        await phone.login("ada@example.com")
        assert len(await live_session_ids(engine, ada.id)) == 2

        (await deactivate(client, staff.access_token, ada.id)).ok()

    assert await live_session_ids(engine, ada.id) == set()
    assert await is_signed_in(client, staff.access_token)


async def test_deactivation_writes_a_user_deactivated_audit_row_with_its_changes(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")

    (await deactivate(client, staff.access_token, ada.id)).ok()

    (row,) = await audit_rows(engine, "USER_DEACTIVATED")
    assert (str(row["user_id"]), row["model_name"], row["object_id"]) == (ada.id, "User", ada.id)
    assert row["ip_address"] == CLIENT_IP
    changes = row["changes"]
    assert changes["isActive"] == {"from": True, "to": False}
    assert changes["deletedAt"]["from"] is None
    assert datetime.fromisoformat(changes["deletedAt"]["to"]).utcoffset() is not None
    assert changes["by"] == staff.id


async def test_reactivation_restores_login(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")
    (await deactivate(client, staff.access_token, ada.id)).ok()

    result = await reactivate(client, staff.access_token, ada.id)

    assert result.ok() == {"reactivateUser": {"id": ada.id, "isActive": True}}
    async with device(app) as ada_client:
        again = await ada_client.login("ada@example.com")
        assert await is_signed_in(ada_client, again.access_token)


async def test_reactivation_writes_a_user_reactivated_audit_row_with_its_changes(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")
    (await deactivate(client, staff.access_token, ada.id)).ok()

    (await reactivate(client, staff.access_token, ada.id)).ok()

    (row,) = await audit_rows(engine, "USER_REACTIVATED")
    assert (str(row["user_id"]), row["model_name"], row["object_id"]) == (ada.id, "User", ada.id)
    changes = row["changes"]
    assert changes["isActive"] == {"from": False, "to": True}
    assert changes["deletedAt"]["from"] is not None
    assert changes["deletedAt"]["to"] is None
    assert changes["by"] == staff.id


async def test_reactivation_does_not_bring_back_the_old_sessions(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    async with device(app) as ada_client:
        ada = await ada_client.register("ada@example.com")
        (await deactivate(client, staff.access_token, ada.id)).ok()

        (await reactivate(client, staff.access_token, ada.id)).ok()

        assert not await is_signed_in(ada_client, ada.access_token)
        assert not await can_refresh(ada_client, ada.refresh_token)


async def test_deactivating_an_already_deactivated_user_records_nothing_more(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")
    (await deactivate(client, staff.access_token, ada.id)).ok()

    result = await deactivate(client, staff.access_token, ada.id)

    assert result.ok() == {"deactivateUser": {"id": ada.id, "isActive": False}}
    assert len(await audit_rows(engine, "USER_DEACTIVATED")) == 1


async def test_reactivating_an_active_user_records_nothing(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")

    result = await reactivate(client, staff.access_token, ada.id)

    assert result.ok() == {"reactivateUser": {"id": ada.id, "isActive": True}}
    assert await audit_rows(engine, "USER_REACTIVATED") == []


async def test_a_non_staff_user_deactivating_someone_is_forbidden_and_changes_nothing(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    mallory = await client.register("mallory@example.com")
    async with device(app) as victim_client:
        victim = await victim_client.register("victim@example.com")

        result = await deactivate(client, mallory.access_token, victim.id)

        assert result.error_codes == ["FORBIDDEN"]
        assert result.data is None
        assert await is_signed_in(victim_client, victim.access_token)
        assert await can_refresh(victim_client, victim.refresh_token)
    assert await audit_rows(engine, "USER_DEACTIVATED") == []


async def test_a_non_staff_user_reactivating_someone_is_forbidden(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    victim = await client.register("victim@example.com")
    (await deactivate(client, staff.access_token, victim.id)).ok()
    mallory = await client.register("mallory@example.com")

    result = await reactivate(client, mallory.access_token, victim.id)

    assert result.error_codes == ["FORBIDDEN"]
    assert await audit_rows(engine, "USER_REACTIVATED") == []


async def test_a_non_staff_user_deactivating_an_unknown_id_is_forbidden(
    client: GraphQLClient,
) -> None:
    mallory = await client.register("mallory@example.com")

    result = await deactivate(client, mallory.access_token, str(uuid.uuid4()))

    assert result.error_codes == ["FORBIDDEN"]


async def test_anonymous_deactivation_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    ada = await client.register("ada@example.com")

    result = await client.execute(DEACTIVATE, {"id": ada.id})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await audit_rows(engine, "USER_DEACTIVATED") == []


async def test_staff_deactivating_themselves_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await deactivate(client, staff.access_token, staff.id)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "id" in result.errors[0]["extensions"]["fields"]
    assert await is_signed_in(client, staff.access_token)
    assert await audit_rows(engine, "USER_DEACTIVATED") == []


async def test_deactivating_an_unknown_id_is_not_found(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await deactivate(client, staff.access_token, str(uuid.uuid4()))

    assert result.error_codes == ["NOT_FOUND"]


async def test_reactivating_an_unknown_id_is_not_found(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await reactivate(client, staff.access_token, str(uuid.uuid4()))

    assert result.error_codes == ["NOT_FOUND"]


async def test_deactivating_a_malformed_id_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await deactivate(client, staff.access_token, "not-a-uuid")

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "id" in result.errors[0]["extensions"]["fields"]


async def test_staff_see_a_deactivated_user_as_inactive_at_once(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")
    before = await client.execute(USER, {"id": ada.id}, token=staff.access_token)
    assert before.ok()["user"]["isActive"] is True
    assert await redis.keys(f"glassshop:cache:{CACHED_USER}:*:{ada.id}")  # the app cached it

    (await deactivate(client, staff.access_token, ada.id)).ok()

    after = await client.execute(USER, {"id": ada.id}, token=staff.access_token)
    node = await client.execute(NODE, {"id": ada.id}, token=staff.access_token)
    assert after.ok()["user"]["isActive"] is False
    assert node.ok()["node"]["isActive"] is False


async def test_staff_see_a_reactivated_user_as_active_at_once(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")
    (await deactivate(client, staff.access_token, ada.id)).ok()
    assert (await client.execute(USER, {"id": ada.id}, token=staff.access_token)).ok()["user"][
        "isActive"
    ] is False

    (await reactivate(client, staff.access_token, ada.id)).ok()

    after = await client.execute(USER, {"id": ada.id}, token=staff.access_token)
    assert after.ok()["user"]["isActive"] is True


async def test_a_deactivated_user_leaves_the_active_list_and_joins_the_inactive_one(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")

    (await deactivate(client, staff.access_token, ada.id)).ok()

    active = await users_page(client, staff.access_token, first=10, filter={"isActive": True})
    inactive = await users_page(client, staff.access_token, first=10, filter={"isActive": False})
    assert active.ids == [staff.id]
    assert inactive.ids == [ada.id]
    assert inactive.nodes[0]["isActive"] is False


async def test_a_deactivated_staff_member_loses_staff_access(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    async with device(app) as other_client:
        other = await other_client.register("other-staff@example.com")
        await make_staff(engine, other.id, redis)
        assert (await users_page(other_client, other.access_token, first=1)).total == 2

        (await deactivate(client, staff.access_token, other.id)).ok()

        result = await other_client.execute(DEACTIVATE, {"id": staff.id}, token=other.access_token)
        assert result.error_codes == ["UNAUTHENTICATED"]
    assert await is_signed_in(client, staff.access_token)
