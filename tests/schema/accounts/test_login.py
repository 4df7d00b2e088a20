"""login: one answer for every kind of failure, an audit row for every attempt, and
the stored password hash kept up to date with the configured argon2 parameters."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, ME, GraphQLClient, Response

INVALID_CREDENTIALS = "Invalid email or password."
CLIENT_IP = "203.0.113.7"


async def sql(engine: AsyncEngine, statement: str, **params: Any) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(statement), params)


async def user_row(engine: AsyncEngine, user_id: str) -> RowMapping:
    async with engine.connect() as connection:
        result = await connection.execute(
            text("SELECT * FROM users WHERE id = :id"), {"id": uuid.UUID(user_id)}
        )
        return result.mappings().one()


async def audit_rows(engine: AsyncEngine, action: str) -> list[RowMapping]:
    async with engine.connect() as connection:
        result = await connection.execute(
            text("SELECT * FROM audit_logs WHERE action = :action ORDER BY created_at"),
            {"action": action},
        )
        return list(result.mappings().all())


async def attempt(client: GraphQLClient, email: str, password: str) -> Response:
    return await client.execute(LOGIN, {"input": {"email": email, "password": password}})


def assert_invalid_credentials(result: Response) -> None:
    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.errors[0]["message"] == INVALID_CREDENTIALS
    assert result.data is None


async def test_login_returns_working_tokens_and_the_user(client: GraphQLClient) -> None:
    registered = await client.register("login.me@example.com")

    account = await client.login("login.me@example.com")

    assert account.id == registered.id
    assert account.access_token != registered.access_token
    assert account.refresh_token != registered.refresh_token
    me = (await client.execute(ME, token=account.access_token)).ok()
    assert me["me"]["id"] == registered.id
    refreshed = await client.refresh(account.refresh_token)
    assert refreshed.ok()["refresh"]["user"]["id"] == registered.id


async def test_login_sets_last_login(client: GraphQLClient, engine: AsyncEngine) -> None:
    registered = await client.register("last.login@example.com")
    assert (await user_row(engine, registered.id))["last_login"] is None
    before = datetime.now(UTC)

    result = await attempt(client, "last.login@example.com", DEFAULT_PASSWORD)

    stored = (await user_row(engine, registered.id))["last_login"]
    assert stored is not None
    assert before - timedelta(seconds=5) <= stored <= datetime.now(UTC) + timedelta(seconds=5)
    answered = datetime.fromisoformat(result.ok()["login"]["user"]["lastLogin"])
    assert abs(answered - stored) < timedelta(seconds=1)


async def test_login_starts_a_new_session(client: GraphQLClient, engine: AsyncEngine) -> None:
    await client.register("sessions@example.com")

    await client.login("sessions@example.com")

    async with engine.connect() as connection:
        sessions = (
            await connection.execute(text("SELECT ip_address, revoked_at FROM auth_sessions"))
        ).all()
    assert len(sessions) == 2
    assert all(ip == CLIENT_IP and revoked is None for ip, revoked in sessions)


async def test_login_writes_a_login_audit_row(client: GraphQLClient, engine: AsyncEngine) -> None:
    registered = await client.register("audited@example.com")

    await client.login("audited@example.com")

    rows = await audit_rows(engine, "LOGIN")
    assert len(rows) == 1
    assert str(rows[0]["user_id"]) == registered.id
    assert rows[0]["object_id"] == registered.id
    assert rows[0]["model_name"] == "User"
    assert rows[0]["ip_address"] == CLIENT_IP


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: GraphQLClient,
) -> None:
    await client.register("known@example.com")

    wrong_password = await attempt(client, "known@example.com", "not the right password")
    unknown_email = await attempt(client, "nobody@example.com", DEFAULT_PASSWORD)

    assert_invalid_credentials(wrong_password)
    assert_invalid_credentials(unknown_email)
    assert wrong_password.body == unknown_email.body
    assert wrong_password.status == unknown_email.status


async def test_failed_login_with_a_known_email_is_audited_with_the_user(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    registered = await client.register("target@example.com")

    result = await attempt(client, "target@example.com", "a wrong guess")

    assert_invalid_credentials(result)
    # The audit row is committed although the mutation failed.
    rows = await audit_rows(engine, "LOGIN_FAILED")
    assert len(rows) == 1
    assert str(rows[0]["user_id"]) == registered.id
    assert rows[0]["object_id"] == registered.id
    assert rows[0]["ip_address"] == CLIENT_IP
    assert "a wrong guess" not in str(dict(rows[0]))


async def test_failed_login_with_an_unknown_email_is_audited_without_a_user(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    result = await attempt(client, "  Ghost@Example.com ", "whatever password")

    assert_invalid_credentials(result)
    rows = await audit_rows(engine, "LOGIN_FAILED")
    assert len(rows) == 1
    assert rows[0]["user_id"] is None
    assert rows[0]["object_id"] is None
    assert rows[0]["changes"] == {"email": "ghost@example.com"}
    assert "whatever password" not in str(dict(rows[0]))


async def test_failed_login_starts_no_session_and_sets_no_cookie(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    await client.register("no.session@example.com")
    client.http.cookies.clear()

    result = await attempt(client, "no.session@example.com", "a wrong guess")

    assert_invalid_credentials(result)
    assert "set-cookie" not in result.http.headers
    async with engine.connect() as connection:
        count = (await connection.execute(text("SELECT count(*) FROM auth_sessions"))).scalar()
    assert count == 1  # the registration's


async def test_inactive_user_cannot_log_in_even_with_the_right_password(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    registered = await client.register("inactive@example.com")
    await sql(
        engine, "UPDATE users SET is_active = false WHERE id = :id", id=uuid.UUID(registered.id)
    )

    result = await attempt(client, "inactive@example.com", DEFAULT_PASSWORD)

    assert_invalid_credentials(result)
    rows = await audit_rows(engine, "LOGIN_FAILED")
    assert [str(row["user_id"]) for row in rows] == [registered.id]
    assert (await user_row(engine, registered.id))["last_login"] is None


async def test_soft_deleted_user_cannot_log_in(client: GraphQLClient, engine: AsyncEngine) -> None:
    registered = await client.register("deleted@example.com")
    await sql(
        engine, "UPDATE users SET deleted_at = now() WHERE id = :id", id=uuid.UUID(registered.id)
    )

    result = await attempt(client, "deleted@example.com", DEFAULT_PASSWORD)

    assert_invalid_credentials(result)
    assert await audit_rows(engine, "LOGIN") == []
    assert (await user_row(engine, registered.id))["last_login"] is None


@pytest.mark.parametrize(
    "spelling", ["CaSe@Example.COM", "case@example.com", "  case@EXAMPLE.com "]
)
async def test_email_is_matched_case_insensitively(client: GraphQLClient, spelling: str) -> None:
    registered = await client.register("Case@example.com")

    account = await client.login(spelling)

    assert account.id == registered.id
    assert account.email == "case@example.com"


async def test_email_stored_with_capitals_by_another_tool_still_matches(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    registered = await client.register("legacy@example.com")
    await sql(
        engine,
        "UPDATE users SET email = 'Legacy@Example.COM' WHERE id = :id",
        id=uuid.UUID(registered.id),
    )

    account = await client.login("legacy@example.com")

    assert account.id == registered.id


async def test_login_rehashes_a_password_hashed_with_old_parameters(
    client: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    registered = await client.register("rehash@example.com")
    old_hash = PasswordHasher(time_cost=3, memory_cost=20480, parallelism=1).hash(DEFAULT_PASSWORD)
    await sql(
        engine,
        "UPDATE users SET password_hash = :hash WHERE id = :id",
        hash=old_hash,
        id=uuid.UUID(registered.id),
    )

    await client.login("rehash@example.com")

    stored = (await user_row(engine, registered.id))["password_hash"]
    expected = (
        f"m={settings.argon2_memory_cost_kib},t={settings.argon2_time_cost},"
        f"p={settings.argon2_parallelism}"
    )
    assert stored != old_hash
    assert stored.startswith("$argon2id$")
    assert f"${expected}$" in stored
    assert PasswordHasher().verify(stored, DEFAULT_PASSWORD)
    # And the new hash keeps working.
    assert (await client.login("rehash@example.com")).id == registered.id


async def test_login_keeps_a_hash_made_with_the_current_parameters(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    registered = await client.register("current@example.com")
    before = (await user_row(engine, registered.id))["password_hash"]

    await client.login("current@example.com")

    assert (await user_row(engine, registered.id))["password_hash"] == before


async def test_wrong_password_neither_rehashes_nor_updates_last_login(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    registered = await client.register("wrong@example.com")
    old_hash = PasswordHasher(time_cost=3, memory_cost=20480, parallelism=1).hash(DEFAULT_PASSWORD)
    await sql(
        engine,
        "UPDATE users SET password_hash = :hash WHERE id = :id",
        hash=old_hash,
        id=uuid.UUID(registered.id),
    )

    result = await attempt(client, "wrong@example.com", "definitely not it")

    assert_invalid_credentials(result)
    row = await user_row(engine, registered.id)
    assert row["password_hash"] == old_hash
    assert row["last_login"] is None


async def test_a_password_differing_only_in_case_is_wrong(client: GraphQLClient) -> None:
    await client.register("exact@example.com", password="Mixed Case Password")

    result = await attempt(client, "exact@example.com", "mixed case password")

    assert_invalid_credentials(result)


async def test_login_sets_the_refresh_cookie_and_keeps_the_token_out_of_the_body(
    client: GraphQLClient, settings: Settings
) -> None:
    await client.register("browser@example.com")
    client.http.cookies.clear()

    result = await attempt(client, "browser@example.com", DEFAULT_PASSWORD)

    assert result.ok()["login"]["refreshToken"] is None
    cookie = client.http.cookies.get(settings.refresh_cookie_name)
    assert cookie
    set_cookie = result.http.headers["set-cookie"].lower()
    assert "httponly" in set_cookie
    assert "secure" in set_cookie
    # The cookie is a working refresh token.
    refreshed = await client.refresh(cookie)
    assert refreshed.ok()["refresh"]["accessToken"]
