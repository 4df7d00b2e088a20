"""Cached users and profiles across releases whose records differ: a release that adds a
field to a record keys its entries apart from the release before it, an entry that does
not decode into the record is a miss (read from PostgreSQL, then overwritten), and a
write through any release reaches the entries of every shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.infra.cache import (
    PROFILE,
    USER,
    RecordCache,
    entry_key,
    generation_key,
    shape_version,
)
from db.models import User, UserProfile
from schema.records import ProfileRecord, UserRecord
from tests.support.graphql import Account, GraphQLClient

ME = "query { me { id email firstName isActive profile { phone preferences } } }"
RENAME = 'mutation { updateProfile(input: {firstName: "Lin"}) { firstName } }'
ROOT = Path(__file__).resolve().parents[2]
# Where the release before shape versions kept its entries (and still does, until it stops).
KEY_BEFORE_SHAPES = "glassshop:cache:{kind}:{id}"

Entry = Callable[[int, dict[str, Any]], str]


def entry(generation: int, value: Any) -> str:
    return json.dumps({"g": generation, "v": value})


def without(value: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != name}


async def stored_user(engine: AsyncEngine, account: Account) -> UserRecord:
    async with AsyncSession(engine) as session:
        row = await session.get(User, uuid.UUID(account.id))
        assert row is not None
        return UserRecord.of(row)


async def stored_profile(engine: AsyncEngine, account: Account) -> ProfileRecord:
    async with AsyncSession(engine) as session:
        query = select(UserProfile).where(col(UserProfile.user_id) == uuid.UUID(account.id))
        return ProfileRecord.of((await session.exec(query)).one())


async def generation(redis: Redis, kind: str, account: Account) -> int:
    return int(await redis.get(generation_key(kind, uuid.UUID(account.id))) or 0)


def me_as_stored(account: Account) -> dict[str, Any]:
    return {
        "me": {
            "id": account.id,
            "email": account.email,
            "firstName": "Ada",
            "isActive": True,
            "profile": {"phone": None, "preferences": {}},
        }
    }


@pytest.fixture
async def ada(client: GraphQLClient) -> Account:
    return await client.register("ada@example.com", firstName="Ada")


async def test_me_answers_when_the_release_before_cached_the_user_without_a_field(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, ada: Account
) -> None:
    older = without((await stored_user(engine, ada)).to_json(), "deleted_at")
    key = KEY_BEFORE_SHAPES.format(kind=USER, id=ada.id)
    await redis.set(key, entry(await generation(redis, USER, ada), older))

    result = await client.execute(ME, token=ada.access_token)

    assert result.ok() == me_as_stored(ada)


async def test_me_answers_when_the_release_before_cached_the_profile_without_a_field(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, ada: Account
) -> None:
    older = without((await stored_profile(engine, ada)).to_json(), "metadata")
    key = KEY_BEFORE_SHAPES.format(kind=PROFILE, id=ada.id)
    await redis.set(key, entry(await generation(redis, PROFILE, ada), older))

    result = await client.execute(ME, token=ada.access_token)

    assert result.ok() == me_as_stored(ada)


async def test_the_release_before_keeps_its_own_entries_during_a_rollout(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, ada: Account
) -> None:
    # Its reads are strict: were this release to write over them in its own shape (a
    # field removed, say), every request to the release before would fail.
    fields = without((await stored_user(engine, ada)).to_json(), "deleted_at")
    older = entry(await generation(redis, USER, ada), fields)
    key = KEY_BEFORE_SHAPES.format(kind=USER, id=ada.id)
    await redis.set(key, older)

    (await client.execute(ME, token=ada.access_token)).ok()

    assert await redis.get(key) == older.encode()


UNDECODABLE_USERS: dict[str, Entry] = {
    "not JSON": lambda g, v: "{not json",
    "not an entry": lambda g, v: json.dumps([g, v]),
    "an entry without a record": lambda g, v: json.dumps({"g": g}),
    "a record that is not an object": lambda g, v: entry(g, [v]),
    "a field missing": lambda g, v: entry(g, without(v, "last_login")),
    "a string of the wrong type": lambda g, v: entry(g, {**v, "email": 42}),
    "a flag of the wrong type": lambda g, v: entry(g, {**v, "is_active": 0}),
    "a null timestamp that is required": lambda g, v: entry(g, {**v, "created_at": None}),
    "a malformed timestamp": lambda g, v: entry(g, {**v, "created_at": "yesterday"}),
    "a malformed id": lambda g, v: entry(g, {**v, "id": "not-a-uuid"}),
}


@pytest.mark.parametrize("undecodable", UNDECODABLE_USERS.values(), ids=UNDECODABLE_USERS)
async def test_an_undecodable_user_entry_is_read_from_postgresql(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, ada: Account, undecodable: Entry
) -> None:
    user = await stored_user(engine, ada)
    raw = undecodable(await generation(redis, USER, ada), user.to_json())
    await redis.set(entry_key(USER, UserRecord, user.id), raw)

    result = await client.execute(ME, token=ada.access_token)

    assert result.ok() == me_as_stored(ada)


UNDECODABLE_PROFILES: dict[str, Entry] = {
    "a field missing": lambda g, v: entry(g, without(v, "address")),
    "an object of the wrong type": lambda g, v: entry(g, {**v, "preferences": "dark"}),
    "a nullable string of the wrong type": lambda g, v: entry(g, {**v, "phone": 5551234}),
}


@pytest.mark.parametrize("undecodable", UNDECODABLE_PROFILES.values(), ids=UNDECODABLE_PROFILES)
async def test_an_undecodable_profile_entry_is_read_from_postgresql(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, ada: Account, undecodable: Entry
) -> None:
    profile = await stored_profile(engine, ada)
    raw = undecodable(await generation(redis, PROFILE, ada), profile.to_json())
    await redis.set(entry_key(PROFILE, ProfileRecord, profile.user_id), raw)

    result = await client.execute(ME, token=ada.access_token)

    assert result.ok() == me_as_stored(ada)


async def test_an_undecodable_entry_is_overwritten_with_the_stored_row(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, ada: Account
) -> None:
    user = await stored_user(engine, ada)
    key = entry_key(USER, UserRecord, user.id)
    await redis.set(key, entry(await generation(redis, USER, ada), without(user.to_json(), "id")))

    (await client.execute(ME, token=ada.access_token)).ok()

    rewritten = await redis.get(key)
    assert rewritten is not None
    assert UserRecord.from_json(json.loads(rewritten)["v"]) == user


async def test_an_undecodable_entry_counts_as_a_miss_and_an_error(
    engine: AsyncEngine, redis: Redis, ada: Account
) -> None:
    cache = RecordCache(redis)
    user = await stored_user(engine, ada)
    await redis.set(entry_key(USER, UserRecord, user.id), entry(0, {"id": str(user.id)}))

    lookup = await cache.get_many(USER, UserRecord, [user.id])

    assert (lookup.found, lookup.generations) == ({}, {user.id: 0})
    assert (cache.stats.hits, cache.stats.misses, cache.stats.errors) == (0, 1, 1)


@dataclass(frozen=True, slots=True)
class EarlierUserRecord:
    """The user record as a release with fewer fields would cache it."""

    id: uuid.UUID
    email: str

    def to_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "email": self.email}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EarlierUserRecord:
        return cls(id=uuid.UUID(data["id"]), email=data["email"])


async def test_a_write_makes_the_entries_of_every_shape_a_miss(
    client: GraphQLClient, redis: Redis, ada: Account
) -> None:
    cache = RecordCache(redis)
    user_id = uuid.UUID(ada.id)
    earlier = {user_id: EarlierUserRecord(user_id, ada.email)}
    await cache.put_many(
        USER, EarlierUserRecord, earlier, {user_id: await generation(redis, USER, ada)}
    )
    assert (await cache.get_many(USER, EarlierUserRecord, [user_id])).found == earlier

    (await client.execute(RENAME, token=ada.access_token)).ok()

    assert (await cache.get_many(USER, EarlierUserRecord, [user_id])).found == {}


async def test_a_write_moves_the_generation_the_release_before_shape_versions_reads(
    client: GraphQLClient, redis: Redis, ada: Account
) -> None:
    # That release tags its entries with glassshop:gen:{kind}:{id}: its readers must see
    # this release's writes, and this release's readers its writes.
    before = {kind: await redis.get(f"glassshop:gen:{kind}:{ada.id}") for kind in (USER, PROFILE)}

    (await client.execute(RENAME, token=ada.access_token)).ok()

    after = {kind: await redis.get(f"glassshop:gen:{kind}:{ada.id}") for kind in (USER, PROFILE)}
    assert all(int(after[kind] or 0) > int(before[kind] or 0) for kind in (USER, PROFILE))


@dataclass
class Record:
    id: uuid.UUID
    email: str


@dataclass
class RecordWithAField:
    id: uuid.UUID
    email: str
    timezone: str | None


@dataclass
class RecordWithARetypedField:
    id: uuid.UUID
    email: str | None


@dataclass
class SameFieldsElsewhere:
    email: str
    id: uuid.UUID


def test_adding_a_field_changes_the_shape_version() -> None:
    assert shape_version(RecordWithAField) != shape_version(Record)


def test_changing_a_fields_type_changes_the_shape_version() -> None:
    assert shape_version(RecordWithARetypedField) != shape_version(Record)


def test_records_with_the_same_fields_share_a_shape_version() -> None:
    assert shape_version(SameFieldsElsewhere) == shape_version(Record)


def test_every_process_computes_the_same_shape_version() -> None:
    probe = (
        "from api.infra.cache import shape_version\n"
        "from schema.records import ProfileRecord, UserRecord\n"
        "print(shape_version(UserRecord), shape_version(ProfileRecord))"
    )
    other = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert other.stdout.split() == [shape_version(UserRecord), shape_version(ProfileRecord)]
