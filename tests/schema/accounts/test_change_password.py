"""changePassword: verifies the current password, applies the policy to the new one, and
signs out every other session (whoever held one may have known the old password)."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.support.accounts import (
    audit_rows,
    can_refresh,
    device,
    is_signed_in,
    live_session_ids,
    scalar,
    session_id_of,
)
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, GraphQLClient

CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }"""

NEW_PASSWORD = "a brand new passphrase"


def change(current: str, new: str) -> dict[str, object]:
    return {"input": {"currentPassword": current, "newPassword": new}}


async def login_code(client: GraphQLClient, email: str, password: str) -> str | None:
    """None when the login succeeds, else its error code."""
    result = await client.execute(LOGIN, {"input": {"email": email, "password": password}})
    return result.error_codes[0] if result.errors else None


async def password_hash(engine: AsyncEngine, email: str) -> str:
    return str(await scalar(engine, "SELECT password_hash FROM users WHERE email = :e", e=email))


async def test_change_password_replaces_the_password_for_logins(
    client: GraphQLClient, app: Starlette
) -> None:
    account = await client.register("ada@example.com")

    result = await client.execute(
        CHANGE_PASSWORD, change(DEFAULT_PASSWORD, NEW_PASSWORD), token=account.access_token
    )

    assert result.ok() == {"changePassword": True}
    async with device(app) as other:
        assert await login_code(other, "ada@example.com", DEFAULT_PASSWORD) == "UNAUTHENTICATED"
        assert await login_code(other, "ada@example.com", NEW_PASSWORD) is None


async def test_change_password_signs_out_the_other_sessions_and_keeps_the_current_one(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    current = await client.register("ada@example.com")
    async with device(app) as other:
        phone = await other.login("ada@example.com")
        tablet = await other.login("ada@example.com")

        (
            await client.execute(
                CHANGE_PASSWORD, change(DEFAULT_PASSWORD, NEW_PASSWORD), token=current.access_token
            )
        ).ok()

        for stale in (phone, tablet):
            assert not await is_signed_in(other, stale.access_token)
            assert not await can_refresh(other, stale.refresh_token)
        assert await is_signed_in(other, current.access_token)
        assert await can_refresh(other, current.refresh_token)
    assert await live_session_ids(engine, current.id) == {session_id_of(current.access_token)}


async def test_a_wrong_current_password_is_bad_user_input_and_changes_nothing(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    hash_before = await password_hash(engine, "ada@example.com")
    async with device(app) as other:
        phone = await other.login("ada@example.com")

        result = await client.execute(
            CHANGE_PASSWORD, change("not my password", NEW_PASSWORD), token=account.access_token
        )

        assert result.error_codes == ["BAD_USER_INPUT"]
        assert list(result.errors[0]["extensions"]["fields"]) == ["currentPassword"]
        assert result.data is None
        assert await password_hash(engine, "ada@example.com") == hash_before
        assert await is_signed_in(other, phone.access_token)
        assert await login_code(other, "ada@example.com", DEFAULT_PASSWORD) is None
    assert await audit_rows(engine, "PASSWORD_CHANGE") == []


async def test_a_common_new_password_is_bad_user_input_on_new_password(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    hash_before = await password_hash(engine, "ada@example.com")

    result = await client.execute(
        CHANGE_PASSWORD, change(DEFAULT_PASSWORD, "Password1"), token=account.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    fields = result.errors[0]["extensions"]["fields"]
    assert list(fields) == ["newPassword"]
    assert "too common" in fields["newPassword"][0]
    assert await password_hash(engine, "ada@example.com") == hash_before


async def test_a_short_new_password_is_bad_user_input_on_new_password(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    hash_before = await password_hash(engine, "ada@example.com")

    result = await client.execute(
        CHANGE_PASSWORD, change(DEFAULT_PASSWORD, "short"), token=account.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["newPassword"]
    assert await password_hash(engine, "ada@example.com") == hash_before


async def test_the_same_password_as_the_current_one_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")

    result = await client.execute(
        CHANGE_PASSWORD, change(DEFAULT_PASSWORD, DEFAULT_PASSWORD), token=account.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["newPassword"]
    assert await audit_rows(engine, "PASSWORD_CHANGE") == []


async def test_a_wrong_current_and_a_weak_new_password_report_both_fields(
    client: GraphQLClient,
) -> None:
    account = await client.register("ada@example.com")

    result = await client.execute(
        CHANGE_PASSWORD, change("not my password", "short"), token=account.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert set(result.errors[0]["extensions"]["fields"]) == {"currentPassword", "newPassword"}


async def test_change_password_writes_an_audit_row_without_any_password(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    async with device(app) as other:
        await other.login("ada@example.com")

    result = await client.execute(
        CHANGE_PASSWORD, change(DEFAULT_PASSWORD, NEW_PASSWORD), token=account.access_token
    )

    result.ok()
    (row,) = await audit_rows(engine, "PASSWORD_CHANGE")
    assert str(row["user_id"]) == account.id
    assert (row["model_name"], row["object_id"]) == ("User", account.id)
    assert row["changes"] == {"revokedSessions": 1}
    written = json.dumps(row["changes"]).lower()
    new_hash = await password_hash(engine, "ada@example.com")
    for secret in ("password", "hash", DEFAULT_PASSWORD, NEW_PASSWORD, new_hash, "argon2"):
        assert secret.lower() not in written


async def test_change_password_when_anonymous_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    await client.register("ada@example.com")
    hash_before = await password_hash(engine, "ada@example.com")

    result = await client.execute(CHANGE_PASSWORD, change(DEFAULT_PASSWORD, NEW_PASSWORD))

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await password_hash(engine, "ada@example.com") == hash_before


async def test_change_password_with_a_revoked_access_token_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    await client.execute("mutation { logout(everywhere: true) }", token=account.access_token)
    hash_before = await password_hash(engine, "ada@example.com")

    result = await client.execute(
        CHANGE_PASSWORD, change(DEFAULT_PASSWORD, NEW_PASSWORD), token=account.access_token
    )

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await password_hash(engine, "ada@example.com") == hash_before
