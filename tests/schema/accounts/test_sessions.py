"""me.sessions lists the signed-in devices; revokeSession ends one of them
(one's own, or for staff anyone's)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.support.accounts import (
    CLIENT_IP,
    LOGOUT,
    ME_SESSIONS,
    REVOKE_SESSION,
    audit_rows,
    can_refresh,
    device,
    is_signed_in,
    live_session_ids,
    make_staff,
    session_id_of,
)
from tests.support.graphql import GraphQLClient


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def sessions_of(client: GraphQLClient, access_token: str) -> list[dict[str, Any]]:
    result = await client.execute(ME_SESSIONS, token=access_token)
    sessions: list[dict[str, Any]] = result.ok()["me"]["sessions"]
    return sessions


async def test_sessions_list_one_entry_per_sign_in_with_device_details(app: Starlette) -> None:
    async with (
        device(app, user_agent="Laptop/1.0") as laptop_client,
        device(app, user_agent="Phone/2.0") as phone_client,
    ):
        laptop = await laptop_client.register("ada@example.com")
        phone = await phone_client.login("ada@example.com")

        sessions = await sessions_of(laptop_client, laptop.access_token)

    by_id = {s["id"]: s for s in sessions}
    assert set(by_id) == {session_id_of(laptop.access_token), session_id_of(phone.access_token)}
    mine = by_id[session_id_of(laptop.access_token)]
    other = by_id[session_id_of(phone.access_token)]
    assert (mine["current"], mine["userAgent"], mine["ipAddress"]) == (
        True,
        "Laptop/1.0",
        CLIENT_IP,
    )
    assert (other["current"], other["userAgent"], other["ipAddress"]) == (
        False,
        "Phone/2.0",
        CLIENT_IP,
    )


async def test_session_times_are_utc_and_expire_with_the_refresh_token(app: Starlette) -> None:
    async with device(app) as laptop_client:
        before = datetime.now(UTC)
        laptop = await laptop_client.register("ada@example.com")
        after = datetime.now(UTC)

        (session,) = await sessions_of(laptop_client, laptop.access_token)

    created = parse_time(str(session["createdAt"]))
    last_used = parse_time(str(session["lastUsedAt"]))
    expires = parse_time(str(session["expiresAt"]))
    slack = timedelta(seconds=5)
    assert created.utcoffset() == timedelta(0)
    assert before - slack <= created <= after + slack
    assert before - slack <= last_used <= after + slack
    assert abs(expires - (last_used + timedelta(days=7))) < slack


async def test_current_marks_only_the_session_of_the_token_used(app: Starlette) -> None:
    async with device(app) as first_client, device(app) as second_client:
        first = await first_client.register("ada@example.com")
        second = await second_client.login("ada@example.com")

        seen_by_first = await sessions_of(first_client, first.access_token)
        seen_by_second = await sessions_of(second_client, second.access_token)

    assert [s["id"] for s in seen_by_first if s["current"]] == [session_id_of(first.access_token)]
    assert [s["id"] for s in seen_by_second if s["current"]] == [session_id_of(second.access_token)]


async def test_revoked_sessions_disappear_from_the_list(app: Starlette) -> None:
    async with device(app) as first_client, device(app) as second_client:
        first = await first_client.register("ada@example.com")
        second = await second_client.login("ada@example.com")
        (await second_client.execute(LOGOUT)).ok()

        sessions = await sessions_of(first_client, first.access_token)

    assert [s["id"] for s in sessions] == [session_id_of(first.access_token)]
    assert session_id_of(second.access_token) not in json.dumps(sessions)


async def test_revoke_session_ends_ones_own_other_session(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    laptop = await client.register("ada@example.com")
    async with device(app) as phone_client:
        phone = await phone_client.login("ada@example.com")
        phone_session = session_id_of(phone.access_token)

        result = await client.execute(
            REVOKE_SESSION, {"id": phone_session}, token=laptop.access_token
        )

        assert result.ok() == {"revokeSession": True}
        assert not await can_refresh(phone_client, phone.refresh_token)
        assert not await is_signed_in(phone_client, phone.access_token)
    assert await is_signed_in(client, laptop.access_token)
    assert await live_session_ids(engine, laptop.id) == {session_id_of(laptop.access_token)}
    assert [s["id"] for s in await sessions_of(client, laptop.access_token)] == [
        session_id_of(laptop.access_token)
    ]
    (row,) = await audit_rows(engine, "LOGOUT")
    assert (str(row["user_id"]), row["object_id"]) == (laptop.id, phone_session)
    assert row["changes"] == {"revokedBy": laptop.id}


async def test_revoke_session_can_end_the_current_session(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")

    result = await client.execute(
        REVOKE_SESSION, {"id": session_id_of(account.access_token)}, token=account.access_token
    )

    assert result.ok() == {"revokeSession": True}
    assert not await is_signed_in(client, account.access_token)
    assert await live_session_ids(engine, account.id) == set()


async def test_revoke_session_of_another_user_is_forbidden_and_changes_nothing(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    mallory = await client.register("mallory@example.com")
    async with device(app) as victim_client:
        victim = await victim_client.register("victim@example.com")

        result = await client.execute(
            REVOKE_SESSION, {"id": session_id_of(victim.access_token)}, token=mallory.access_token
        )

        assert result.error_codes == ["FORBIDDEN"]
        assert result.data is None
        assert await live_session_ids(engine, victim.id) == {session_id_of(victim.access_token)}
        assert await is_signed_in(victim_client, victim.access_token)
        assert await can_refresh(victim_client, victim.refresh_token)
    assert await audit_rows(engine, "LOGOUT") == []


async def test_staff_can_revoke_another_users_session(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    staff = await client.register("staff@example.com")
    await make_staff(engine, staff.id)
    async with device(app) as user_client:
        user = await user_client.register("user@example.com")
        user_session = session_id_of(user.access_token)

        result = await client.execute(
            REVOKE_SESSION, {"id": user_session}, token=staff.access_token
        )

        assert result.ok() == {"revokeSession": True}
        assert not await is_signed_in(user_client, user.access_token)
        assert not await can_refresh(user_client, user.refresh_token)
    assert await live_session_ids(engine, user.id) == set()
    assert await is_signed_in(client, staff.access_token)
    (row,) = await audit_rows(engine, "LOGOUT")
    assert (str(row["user_id"]), row["object_id"]) == (user.id, user_session)
    assert row["changes"] == {"revokedBy": staff.id}


async def test_revoke_session_with_an_unknown_id_is_not_found(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")

    result = await client.execute(
        REVOKE_SESSION, {"id": str(uuid.uuid4())}, token=account.access_token
    )

    assert result.error_codes == ["NOT_FOUND"]
    assert await is_signed_in(client, account.access_token)


async def test_revoke_session_with_a_malformed_id_is_bad_user_input(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")

    result = await client.execute(REVOKE_SESSION, {"id": "not-a-uuid"}, token=account.access_token)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "id" in result.errors[0]["extensions"]["fields"]


async def test_revoke_session_when_anonymous_is_unauthenticated(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    session = session_id_of(account.access_token)
    async with device(app) as stranger:
        result = await stranger.execute(REVOKE_SESSION, {"id": session})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await live_session_ids(engine, account.id) == {session}


async def test_sessions_of_an_anonymous_caller_is_null(app: Starlette) -> None:
    async with device(app) as stranger:
        result = await stranger.execute(ME_SESSIONS)

    assert result.ok() == {"me": None}


async def test_the_session_list_never_contains_token_values(app: Starlette) -> None:
    async with device(app) as laptop_client, device(app) as phone_client:
        laptop = await laptop_client.register("ada@example.com")
        phone = await phone_client.login("ada@example.com")

        result = await laptop_client.execute(
            "query { me { sessions { __typename id current userAgent ipAddress "
            "createdAt lastUsedAt expiresAt } } }",
            token=laptop.access_token,
        )
        introspection = await laptop_client.execute(
            '{ __type(name: "Session") { fields { name } } }'
        )

    body = json.dumps(result.ok())
    for secret in (laptop.refresh_token, phone.refresh_token, phone.access_token):
        assert secret not in body
    fields = introspection.ok()["__type"]["fields"]
    assert not [f["name"] for f in fields if "token" in f["name"].lower()]
