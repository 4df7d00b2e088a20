"""auditLogs: the whole audit trail for staff, newest first; User.auditLogs: one's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.graphql import Account, GraphQLClient
from tests.support.staff import (
    AUDIT_FIELDS,
    AUDIT_LOGS,
    ME_AUDIT_LOGS,
    NODE,
    T0,
    Connection,
    audit_ids_of,
    audit_page,
    backward_ids,
    connection,
    forward_ids,
    insert_audit,
    register_staff,
    walk_backward,
    walk_forward,
)


def day(n: float) -> str:
    return (T0 + timedelta(days=n)).isoformat()


@dataclass(frozen=True)
class Trail:
    staff: Account
    ada: Account
    bob: Account
    entries: dict[str, str]  # name -> id of the rows inserted by SQL


async def make_trail(client: GraphQLClient, engine: AsyncEngine, redis: Redis) -> Trail:
    """Three registrations (now) and a past written by SQL, with a tie at day 1."""
    staff = await register_staff(client, engine, redis)
    ada = await client.register("ada@example.com")
    bob = await client.register("bob@example.com")
    at = T0 + timedelta(days=1)
    rows: dict[str, dict[str, Any]] = {
        "ada_login": {"user_id": ada.id, "action": "LOGIN", "created_at": at},
        "bob_login": {"user_id": bob.id, "action": "LOGIN", "created_at": at},
        "ada_logout": {"user_id": ada.id, "action": "LOGOUT", "created_at": at + timedelta(1)},
        "ada_profile": {
            "user_id": ada.id,
            "action": "PROFILE_UPDATE",
            "model_name": "UserProfile",
            "created_at": at + timedelta(2),
        },
        "ada_failed": {
            "user_id": ada.id,
            "action": "LOGIN_FAILED",
            "created_at": at + timedelta(3),
        },
        "bob_password": {
            "user_id": bob.id,
            "action": "PASSWORD_CHANGE",
            "created_at": at + timedelta(4),
        },
        "nobody_failed": {
            "user_id": None,
            "action": "LOGIN_FAILED",
            "created_at": at + timedelta(5),
            "changes": {"email": "who@example.com"},
        },
    }
    entries = {name: await insert_audit(engine, **row) for name, row in rows.items()}
    return Trail(staff, ada, bob, entries)


async def all_ids_newest_first(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection_:
        rows = await connection_.execute(
            text("SELECT id FROM audit_logs ORDER BY created_at DESC, id DESC")
        )
        return [str(row[0]) for row in rows]


async def filtered(client: GraphQLClient, token: str, **filter_: Any) -> Connection:
    page = await audit_page(client, token, first=100, filter=filter_)
    assert page.total == len(page.ids)
    return page


# --- who may read the whole trail ---------------------------------------------------------------


async def test_a_non_staff_user_reading_the_audit_trail_is_forbidden(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    result = await client.execute(AUDIT_LOGS, {"first": 10}, token=trail.ada.access_token)

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data is None


async def test_anonymous_reading_the_audit_trail_is_unauthenticated(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    await make_trail(client, engine, redis)

    result = await client.execute(AUDIT_LOGS, {"first": 10})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.data is None


async def test_staff_read_every_entry_newest_first(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    page = await audit_page(client, trail.staff.access_token, first=100)

    assert page.ids == await all_ids_newest_first(engine)
    assert page.total == 3 + len(trail.entries)
    times = [node["createdAt"] for node in page.nodes]
    assert times == sorted(times, reverse=True)
    assert page.nodes[-1]["action"] == "LOGIN"  # the tie at day 1 comes last
    assert {n["action"] for n in page.nodes[:3]} == {"REGISTER"}


async def test_an_entry_shows_its_recorded_fields(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    page = await filtered(
        client, trail.staff.access_token, userId=trail.ada.id, actions=["REGISTER"]
    )

    (entry,) = page.nodes
    assert (entry["action"], entry["modelName"], entry["objectId"]) == (
        "REGISTER",
        "User",
        trail.ada.id,
    )
    assert entry["changes"]["email"] == "ada@example.com"
    assert entry["ipAddress"] == "203.0.113.7"
    assert entry["user"] == {"id": trail.ada.id}


# --- filters --------------------------------------------------------------------------------------


async def test_filter_by_user_id_shows_only_that_users_entries(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    page = await filtered(client, trail.staff.access_token, userId=trail.ada.id)

    assert page.ids == await audit_ids_of(engine, trail.ada.id)
    assert page.total == 5
    assert {node["user"]["id"] for node in page.nodes} == {trail.ada.id}


async def test_filter_by_several_actions_shows_any_of_them(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    entries = trail.entries

    page = await filtered(client, trail.staff.access_token, actions=["LOGOUT", "LOGIN_FAILED"])

    assert set(page.ids) == {entries["ada_logout"], entries["ada_failed"], entries["nobody_failed"]}


async def test_filter_by_one_action(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    page = await filtered(client, trail.staff.access_token, actions=["REGISTER"])

    assert {node["user"]["id"] for node in page.nodes} == {
        trail.staff.id,
        trail.ada.id,
        trail.bob.id,
    }


async def test_filter_by_model_name(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    page = await filtered(client, trail.staff.access_token, modelName="UserProfile")

    assert page.ids == [trail.entries["ada_profile"]]


async def test_filters_combine(client: GraphQLClient, engine: AsyncEngine, redis: Redis) -> None:
    trail = await make_trail(client, engine, redis)
    entries = trail.entries

    page = await filtered(
        client,
        trail.staff.access_token,
        userId=trail.ada.id,
        actions=["LOGIN", "LOGIN_FAILED", "PASSWORD_CHANGE"],
        createdBefore=day(10),
    )

    assert page.ids == [entries["ada_failed"], entries["ada_login"]]


async def test_created_after_and_created_before_bound_the_time(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    entries = trail.entries
    token = trail.staff.access_token

    between = await filtered(client, token, createdAfter=day(2.5), createdBefore=day(4.5))
    after = await filtered(client, token, createdAfter=day(4.5))
    before = await filtered(client, token, createdBefore=day(1.5))

    assert between.ids == [entries["ada_failed"], entries["ada_profile"]]
    past = set(entries.values())
    assert set(after.ids) & past == {entries["bob_password"], entries["nobody_failed"]}
    assert [n["action"] for n in after.nodes if n["id"] not in past] == ["REGISTER"] * 3
    assert set(before.ids) == {entries["ada_login"], entries["bob_login"]}


async def test_an_inverted_time_range_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        AUDIT_LOGS,
        {"first": 5, "filter": {"createdAfter": day(2), "createdBefore": day(1)}},
        token=staff.access_token,
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "createdAfter" in result.errors[0]["extensions"]["fields"]


async def test_a_time_without_an_offset_is_never_an_internal_error(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        AUDIT_LOGS,
        {"first": 5, "filter": {"createdAfter": "2024-01-01T00:00:00", "createdBefore": day(1)}},
        token=staff.access_token,
    )

    assert "INTERNAL_SERVER_ERROR" not in result.error_codes
    assert result.error_codes in ([], ["BAD_USER_INPUT"])


async def test_a_model_name_with_a_nul_character_is_never_an_internal_error(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        AUDIT_LOGS, {"first": 5, "filter": {"modelName": "User\u0000"}}, token=staff.access_token
    )

    assert "INTERNAL_SERVER_ERROR" not in result.error_codes
    assert result.error_codes in ([], ["BAD_USER_INPUT"])


@pytest.mark.parametrize("user_id", ["not-a-uuid", "", "12345"])
async def test_a_malformed_user_id_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, user_id: str
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        AUDIT_LOGS, {"first": 5, "filter": {"userId": user_id}}, token=staff.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "userId" in result.errors[0]["extensions"]["fields"]


async def test_an_unknown_action_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        AUDIT_LOGS, {"first": 5, "filter": {"actions": ["DROP_TABLE"]}}, token=staff.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_an_unknown_user_id_matches_nothing(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    page = await filtered(client, trail.staff.access_token, userId=str(uuid.uuid4()))

    assert (page.ids, page.total) == ([], 0)


# --- pagination -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 10])
async def test_first_after_walks_every_entry_once_newest_first(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, size: int
) -> None:
    trail = await make_trail(client, engine, redis)

    pages = await walk_forward(client, AUDIT_LOGS, "auditLogs", trail.staff.access_token, size)

    assert forward_ids(pages) == await all_ids_newest_first(engine)


@pytest.mark.parametrize("size", [1, 3, 10])
async def test_last_before_walks_every_entry_once_backwards(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, size: int
) -> None:
    trail = await make_trail(client, engine, redis)

    pages = await walk_backward(client, AUDIT_LOGS, "auditLogs", trail.staff.access_token, size)

    assert backward_ids(pages) == await all_ids_newest_first(engine)


async def test_a_filtered_trail_paginates_within_the_filter(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    token = trail.staff.access_token
    filter_ = {"userId": trail.ada.id}

    forwards = await walk_forward(client, AUDIT_LOGS, "auditLogs", token, 2, filter=filter_)
    backwards = await walk_backward(client, AUDIT_LOGS, "auditLogs", token, 2, filter=filter_)

    expected = await audit_ids_of(engine, trail.ada.id)
    assert forward_ids(forwards) == expected
    assert backward_ids(backwards) == expected
    assert {p.total for p in forwards + backwards} == {5}


async def test_new_entries_do_not_shift_the_next_page(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    token = trail.staff.access_token
    old = await all_ids_newest_first(engine)
    first = await audit_page(client, token, first=4)

    await client.login("ada@example.com")  # a LOGIN entry, newer than everything
    rest = await audit_page(client, token, first=100, after=first.end_cursor)

    assert first.ids + rest.ids == old


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 101}, "first"), ({"last": 101}, "last"), ({"first": -1}, "first")],
)
async def test_page_size_rules_apply_to_the_audit_trail(
    client: GraphQLClient,
    engine: AsyncEngine,
    redis: Redis,
    variables: dict[str, int],
    field: str,
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(AUDIT_LOGS, variables, token=staff.access_token)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert field in result.errors[0]["extensions"]["fields"]


async def test_a_malformed_audit_cursor_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        AUDIT_LOGS, {"first": 5, "after": "bm90IGEgY3Vyc29y"}, token=staff.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "after" in result.errors[0]["extensions"]["fields"]


# --- AuditLog.user --------------------------------------------------------------------------------


async def test_audit_log_user_resolves_to_the_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    query = """
    query { auditLogs(first: 100) { edges { node { id user { id email isActive } } } } }"""

    result = await client.execute(query, token=trail.staff.access_token)

    users = {e["node"]["id"]: e["node"]["user"] for e in result.ok()["auditLogs"]["edges"]}
    assert users[trail.entries["ada_login"]] == {
        "id": trail.ada.id,
        "email": "ada@example.com",
        "isActive": True,
    }
    assert users[trail.entries["bob_password"]]["email"] == "bob@example.com"
    assert users[trail.entries["nobody_failed"]] is None


# --- one's own trail ------------------------------------------------------------------------------


async def test_me_audit_logs_shows_only_ones_own_entries(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    result = await client.execute(ME_AUDIT_LOGS, {"first": 100}, token=trail.ada.access_token)

    page = connection(result, "me.auditLogs")
    assert page.ids == await audit_ids_of(engine, trail.ada.id)
    assert page.total == 5
    assert {node["user"]["id"] for node in page.nodes} == {trail.ada.id}
    assert trail.bob.id not in result.http.text


async def test_me_audit_logs_pages_both_ways_without_duplicates(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    token = trail.ada.access_token
    expected = await audit_ids_of(engine, trail.ada.id)

    forwards = await walk_forward(client, ME_AUDIT_LOGS, "me.auditLogs", token, 2)
    backwards = await walk_backward(client, ME_AUDIT_LOGS, "me.auditLogs", token, 2)

    assert forward_ids(forwards) == expected
    assert backward_ids(backwards) == expected


async def test_staff_read_one_users_trail_through_the_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    query = f"""
    query Trail($id: ID!) {{
      user(id: $id) {{
        auditLogs(first: 100) {{ totalCount edges {{ node {{ {AUDIT_FIELDS} }} }} }}
      }}
    }}"""

    result = await client.execute(query, {"id": trail.bob.id}, token=trail.staff.access_token)

    logs = result.ok()["user"]["auditLogs"]
    assert [e["node"]["id"] for e in logs["edges"]] == await audit_ids_of(engine, trail.bob.id)
    assert logs["totalCount"] == 3


async def test_each_listed_user_shows_only_their_own_trail(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    query = """
    query {
      users(first: 100) { edges { node {
        id
        auditLogs(first: 2) {
          totalCount pageInfo { hasNextPage } edges { node { id user { id } } }
        }
      } } }
    }"""

    result = await client.execute(query, token=trail.staff.access_token)

    for edge in result.ok()["users"]["edges"]:
        user_id = edge["node"]["id"]
        logs = edge["node"]["auditLogs"]
        own = await audit_ids_of(engine, user_id)
        assert [e["node"]["id"] for e in logs["edges"]] == own[:2], user_id
        assert logs["totalCount"] == len(own)
        assert logs["pageInfo"]["hasNextPage"] == (len(own) > 2)
        assert {e["node"]["user"]["id"] for e in logs["edges"]} <= {user_id}


# --- no path to another user's trail -------------------------------------------------------------


async def test_a_user_cannot_filter_the_trail_by_another_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)

    result = await client.execute(
        AUDIT_LOGS, {"first": 10, "filter": {"userId": trail.bob.id}}, token=trail.ada.access_token
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data is None


async def test_a_user_cannot_read_another_users_trail_through_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    query = """
    query T($id: ID!) { user(id: $id) { auditLogs(first: 10) { edges { node { id } } } } }"""

    result = await client.execute(query, {"id": trail.bob.id}, token=trail.ada.access_token)

    assert result.error_codes == ["FORBIDDEN"]
    assert trail.entries["bob_password"] not in result.http.text


async def test_a_user_cannot_read_another_users_trail_through_node(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    query = """
    query T($id: ID!) {
      node(id: $id) { ... on User { auditLogs(first: 10) { totalCount edges { node { id } } } } }
    }"""

    through_user = await client.execute(query, {"id": trail.bob.id}, token=trail.ada.access_token)
    entry = await client.execute(
        NODE, {"id": trail.entries["bob_password"]}, token=trail.ada.access_token
    )
    anonymous_entry = await client.execute(
        NODE, {"id": trail.entries["nobody_failed"]}, token=trail.ada.access_token
    )

    assert through_user.error_codes == ["FORBIDDEN"]
    assert entry.error_codes == ["FORBIDDEN"]
    assert anonymous_entry.error_codes == ["FORBIDDEN"]
    assert "PASSWORD_CHANGE" not in entry.http.text


async def test_a_user_cannot_reach_another_users_trail_through_their_own_entries(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    trail = await make_trail(client, engine, redis)
    query = """
    query {
      me { auditLogs(first: 10) { edges { node { user {
        id auditLogs(first: 10) { edges { node { id user { id } } } }
      } } } } }
    }"""

    result = await client.execute(query, token=trail.ada.access_token)

    edges = result.ok()["me"]["auditLogs"]["edges"]
    reached = {
        inner["node"]["user"]["id"]
        for edge in edges
        for inner in edge["node"]["user"]["auditLogs"]["edges"]
    }
    assert reached == {trail.ada.id}
    assert trail.bob.id not in result.http.text
