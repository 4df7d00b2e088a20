"""updateProfile: edits the signed-in user's names, username and profile. Omitted fields
stay as they are, null clears; every real change is one PROFILE_UPDATE audit row."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.accounts import audit_rows, scalar
from tests.support.graphql import Account, GraphQLClient

UPDATE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) {
    id username firstName lastName
    profile { avatar phone address preferences metadata }
  }
}"""

ME = """
query { me { id username firstName lastName
  profile { avatar phone address preferences metadata } } }"""

FULL = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "username": "countess",
    "avatar": "https://cdn.example.com/ada.png",
    "phone": "+44 (20) 7946-0958",
    "address": "12 St James's Square, London",
    "preferences": {"theme": "dark", "newsletter": False},
    "metadata": {"source": "import", "tags": ["vip"]},
}


async def update(client: GraphQLClient, account: Account, **fields: Any) -> Any:
    return await client.execute(UPDATE, {"input": fields}, token=account.access_token)


async def me(client: GraphQLClient, account: Account) -> dict[str, Any]:
    found: dict[str, Any] = (await client.execute(ME, token=account.access_token)).ok()["me"]
    return found


async def stored_state(engine: AsyncEngine) -> list[Any]:
    """Everything updateProfile may write, to prove a failed update wrote nothing."""
    async with engine.connect() as connection:
        users = await connection.execute(
            text("SELECT id, username, first_name, last_name, updated_at FROM users ORDER BY id")
        )
        profiles = await connection.execute(
            text(
                "SELECT user_id, avatar, phone, address, preferences, metadata, updated_at "
                "FROM user_profiles ORDER BY user_id"
            )
        )
        audit = await connection.execute(text("SELECT count(*) FROM audit_logs"))
        return [list(users), list(profiles), audit.scalar_one()]


def flat(user: dict[str, Any]) -> dict[str, Any]:
    """The user and profile fields in the input's shape."""
    profile = user["profile"]
    return {
        "firstName": user["firstName"],
        "lastName": user["lastName"],
        "username": user["username"],
        **{k: profile[k] for k in ("avatar", "phone", "address", "preferences", "metadata")},
    }


async def test_update_profile_sets_every_field_and_returns_the_user(
    client: GraphQLClient,
) -> None:
    account = await client.register("ada@example.com")

    result = await update(client, account, **FULL)

    user = result.ok()["updateProfile"]
    assert user["id"] == account.id
    assert flat(user) == FULL


async def test_the_update_is_visible_to_a_later_me_query(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")

    (await update(client, account, **FULL)).ok()

    assert flat(await me(client, account)) == FULL


async def test_omitted_fields_stay_unchanged(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")
    (await update(client, account, **FULL)).ok()

    result = await update(client, account, lastName="King")

    assert flat(result.ok()["updateProfile"]) == {**FULL, "lastName": "King"}
    assert flat(await me(client, account)) == {**FULL, "lastName": "King"}


async def test_null_clears_avatar_phone_and_address(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")
    (await update(client, account, **FULL)).ok()

    result = await update(client, account, avatar=None, phone=None, address=None)

    profile = result.ok()["updateProfile"]["profile"]
    assert (profile["avatar"], profile["phone"], profile["address"]) == (None, None, None)
    assert profile["preferences"] == FULL["preferences"]
    assert (await me(client, account))["profile"]["phone"] is None


async def test_names_are_stored_trimmed(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")

    result = await update(client, account, firstName="  Ada ", lastName=" Lovelace  ")

    user = result.ok()["updateProfile"]
    assert (user["firstName"], user["lastName"]) == ("Ada", "Lovelace")


async def test_update_profile_writes_an_audit_row_with_a_diff_of_the_changed_fields(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com", firstName="Ada")
    old_username = (await me(client, account))["username"]

    result = await update(
        client,
        account,
        firstName="Ada",  # unchanged: not in the diff
        username="countess",
        phone="+44 20 7946 0958",
        preferences={"theme": "dark"},
    )

    result.ok()
    (row,) = await audit_rows(engine, "PROFILE_UPDATE")
    assert str(row["user_id"]) == account.id
    assert row["model_name"] == "UserProfile"
    profile_id = await scalar(
        engine, "SELECT id FROM user_profiles WHERE user_id = :id", id=uuid.UUID(account.id)
    )
    assert row["object_id"] == str(profile_id)
    assert row["changes"] == {
        "username": {"from": old_username, "to": "countess"},
        "phone": {"from": None, "to": "+44 20 7946 0958"},
        "preferences": {"from": {}, "to": {"theme": "dark"}},
    }


async def test_a_no_op_update_writes_no_audit_row(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    (await update(client, account, **FULL)).ok()
    before = await stored_state(engine)

    result = await update(client, account, **FULL)

    assert flat(result.ok()["updateProfile"]) == FULL
    assert await stored_state(engine) == before
    assert len(await audit_rows(engine, "PROFILE_UPDATE")) == 1


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "1234"}, "phone"),
        ({"avatar": "javascript:alert(1)"}, "avatar"),
        ({"avatar": "ftp://example.com/a.png"}, "avatar"),
        ({"avatar": "https://"}, "avatar"),
        ({"preferences": "dark"}, "preferences"),
        ({"preferences": ["dark"]}, "preferences"),
        ({"metadata": 42}, "metadata"),
        ({"metadata": {"blob": "x" * (16 * 1024)}}, "metadata"),
        ({"firstName": "A" * 151}, "firstName"),
        ({"lastName": "L" * 151}, "lastName"),
        ({"firstName": "Ada\x07"}, "firstName"),
        ({"username": "no spaces please"}, "username"),
        ({"username": "ab"}, "username"),
        ({"username": None}, "username"),
        ({"address": "x" * 1025}, "address"),
    ],
)
async def test_invalid_input_is_bad_user_input_naming_the_field_and_writes_nothing(
    client: GraphQLClient, engine: AsyncEngine, fields: dict[str, Any], field_name: str
) -> None:
    account = await client.register("ada@example.com")
    before = await stored_state(engine)

    # A valid change alongside the invalid one must not be written either.
    result = await update(client, account, **{"address": "1 New Street", **fields})

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == [field_name]
    assert await stored_state(engine) == before


async def test_several_invalid_fields_are_reported_together(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")

    result = await update(
        client, account, phone="nope", avatar="mailto:a@b.c", preferences=1, firstName="F" * 200
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert set(result.errors[0]["extensions"]["fields"]) == {
        "phone",
        "avatar",
        "preferences",
        "firstName",
    }


async def test_a_name_of_exactly_150_characters_is_accepted(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")

    result = await update(client, account, firstName="A" * 150)

    assert result.ok()["updateProfile"]["firstName"] == "A" * 150


async def test_a_phone_number_longer_than_32_characters_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    before = await stored_state(engine)

    result = await update(client, account, phone="+" + "1" * 32)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["phone"]
    assert await stored_state(engine) == before


async def test_a_phone_number_of_exactly_32_characters_is_stored(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com")
    phone = "+" + "1" * 31

    result = await update(client, account, phone=phone)

    assert result.ok()["updateProfile"]["profile"]["phone"] == phone


@pytest.mark.parametrize(
    ("fields", "field_name"),
    [({"phone": "+44 20 7946 0958\n"}, "phone"), ({"username": "countess\n"}, "username")],
)
async def test_a_trailing_newline_is_not_accepted(
    client: GraphQLClient, engine: AsyncEngine, fields: dict[str, Any], field_name: str
) -> None:
    account = await client.register("ada@example.com")
    before = await stored_state(engine)

    result = await update(client, account, **fields)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == [field_name]
    assert await stored_state(engine) == before


async def test_a_username_taken_in_any_case_is_a_conflict(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    await client.register("bob@example.com", username="Countess")
    account = await client.register("ada@example.com")
    before = await stored_state(engine)

    result = await update(client, account, username="COUNTESS", firstName="Ada")

    assert result.error_codes == ["CONFLICT"]
    assert await stored_state(engine) == before


async def test_changing_the_case_of_ones_own_username_is_allowed(client: GraphQLClient) -> None:
    account = await client.register("ada@example.com", username="countess")

    result = await update(client, account, username="Countess")

    assert result.ok()["updateProfile"]["username"] == "Countess"


async def test_null_preferences_and_metadata_reset_them_to_empty_objects(
    client: GraphQLClient,
) -> None:
    account = await client.register("ada@example.com")
    (await update(client, account, **FULL)).ok()

    result = await update(client, account, preferences=None, metadata=None)

    profile = result.ok()["updateProfile"]["profile"]
    assert (profile["preferences"], profile["metadata"]) == ({}, {})


async def test_update_profile_when_anonymous_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    await client.register("ada@example.com")
    before = await stored_state(engine)

    result = await client.execute(UPDATE, {"input": {"firstName": "Eve"}})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await stored_state(engine) == before


async def test_preferences_holding_an_integer_beyond_64_bits_read_back_exactly(
    client: GraphQLClient,
) -> None:
    # Response bodies are encoded with orjson, which refuses such integers itself.
    account = await client.register("ada@example.com")
    huge = {"counter": 10**30, "negative": -(2**70)}

    (await update(client, account, preferences=huge)).ok()

    assert (await me(client, account))["profile"]["preferences"] == huge
