"""node(id): any object by its id, with the same permissions as the object's own query,
and no way round them through the objects' fields (no IDOR)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.support.accounts import CLIENT_IP, REVOKE_SESSION, device, session_id_of
from tests.support.graphql import Account, GraphQLClient
from tests.support.staff import NODE, T0, insert_audit, register_staff

KINDS = ["User", "UserProfile", "AuditLog", "Session"]


@dataclass(frozen=True)
class Owned:
    """One user's objects of every kind: kind -> id."""

    account: Account
    ids: dict[str, str]


async def owned_by(client: GraphQLClient, account: Account) -> Owned:
    query = "{ me { profile { id } auditLogs(first: 1) { edges { node { id action } } } } }"
    me = (await client.execute(query, token=account.access_token)).ok()["me"]
    (entry,) = me["auditLogs"]["edges"]
    assert entry["node"]["action"] == "REGISTER"
    return Owned(
        account,
        {
            "User": account.id,
            "UserProfile": me["profile"]["id"],
            "AuditLog": entry["node"]["id"],
            "Session": session_id_of(account.access_token),
        },
    )


async def register_owner(client: GraphQLClient, email: str) -> Owned:
    return await owned_by(client, await client.register(email))


# --- the owner and staff read every kind -------------------------------------------------------


async def test_node_returns_ones_own_user(client: GraphQLClient) -> None:
    ada = await register_owner(client, "ada@example.com")

    result = await client.execute(NODE, {"id": ada.account.id}, token=ada.account.access_token)

    assert result.ok()["node"] == {
        "__typename": "User",
        "id": ada.account.id,
        "email": "ada@example.com",
        "isActive": True,
    }


async def test_node_returns_ones_own_profile(client: GraphQLClient) -> None:
    ada = await register_owner(client, "ada@example.com")
    profile_id = ada.ids["UserProfile"]

    result = await client.execute(NODE, {"id": profile_id}, token=ada.account.access_token)

    assert result.ok()["node"] == {
        "__typename": "UserProfile",
        "id": profile_id,
        "phone": None,
        "profileUser": {"id": ada.account.id},
    }


async def test_node_returns_ones_own_audit_entry(client: GraphQLClient) -> None:
    ada = await register_owner(client, "ada@example.com")
    entry_id = ada.ids["AuditLog"]

    result = await client.execute(NODE, {"id": entry_id}, token=ada.account.access_token)

    assert result.ok()["node"] == {
        "__typename": "AuditLog",
        "id": entry_id,
        "action": "REGISTER",
        "modelName": "User",
        "auditUser": {"id": ada.account.id},
    }


async def test_node_returns_ones_own_session_marked_current(client: GraphQLClient) -> None:
    ada = await register_owner(client, "ada@example.com")
    session_id = ada.ids["Session"]

    result = await client.execute(NODE, {"id": session_id}, token=ada.account.access_token)

    node = result.ok()["node"]
    assert (node["__typename"], node["id"], node["current"]) == ("Session", session_id, True)
    assert node["ipAddress"] == CLIENT_IP


@pytest.mark.parametrize("kind", KINDS)
async def test_staff_read_anyones_object_through_node(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, kind: str
) -> None:
    ada = await register_owner(client, "ada@example.com")
    staff = await register_staff(client, engine, redis)

    result = await client.execute(NODE, {"id": ada.ids[kind]}, token=staff.access_token)

    node = result.ok()["node"]
    assert (node["__typename"], node["id"]) == (kind, ada.ids[kind])
    if kind == "User":
        assert node["email"] == "ada@example.com"
    elif kind == "UserProfile":
        assert node["profileUser"] == {"id": ada.account.id}
    elif kind == "AuditLog":
        assert node["auditUser"] == {"id": ada.account.id}
    else:
        assert node["current"] is False  # Ada's session, not the staff member's


async def test_staff_read_an_audit_entry_without_a_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    entry_id = await insert_audit(engine, user_id=None, action="LOGIN_FAILED", created_at=T0)

    result = await client.execute(NODE, {"id": entry_id}, token=staff.access_token)

    assert result.ok()["node"]["auditUser"] is None


# --- nobody else ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_another_users_object_through_node_is_forbidden(
    client: GraphQLClient, kind: str
) -> None:
    victim = await register_owner(client, "victim@example.com")
    mallory = await client.register("mallory@example.com")

    result = await client.execute(NODE, {"id": victim.ids[kind]}, token=mallory.access_token)

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data == {"node": None}
    assert victim.account.id not in result.http.text
    assert "victim@example.com" not in result.http.text


@pytest.mark.parametrize("kind", KINDS)
async def test_anonymous_node_is_unauthenticated(client: GraphQLClient, kind: str) -> None:
    ada = await register_owner(client, "ada@example.com")

    result = await client.execute(NODE, {"id": ada.ids[kind]})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.data == {"node": None}


async def test_anonymous_node_with_an_unknown_id_is_unauthenticated(client: GraphQLClient) -> None:
    result = await client.execute(NODE, {"id": str(uuid.uuid4())})

    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_an_unknown_id_is_null(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    ada = await client.register("ada@example.com")
    staff = await register_staff(client, engine, redis)

    for token in (ada.access_token, staff.access_token):
        result = await client.execute(NODE, {"id": str(uuid.uuid4())}, token=token)

        assert result.ok() == {"node": None}


@pytest.mark.parametrize("malformed", ["not-a-uuid", "", "VXNlcjox", "1 OR 1=1"])
async def test_a_malformed_id_is_bad_user_input(client: GraphQLClient, malformed: str) -> None:
    ada = await client.register("ada@example.com")

    result = await client.execute(NODE, {"id": malformed}, token=ada.access_token)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "id" in result.errors[0]["extensions"]["fields"]


# --- no way round through nested fields ----------------------------------------------------------


async def test_ones_own_profile_leads_back_only_to_oneself(client: GraphQLClient) -> None:
    ada = await register_owner(client, "ada@example.com")
    await register_owner(client, "bob@example.com")
    query = """
    query P($id: ID!) {
      node(id: $id) { ... on UserProfile { user {
        id email sessions { id } auditLogs(first: 100) { edges { node { user { id } } } }
      } } }
    }"""

    result = await client.execute(
        query, {"id": ada.ids["UserProfile"]}, token=ada.account.access_token
    )

    user = result.ok()["node"]["user"]
    assert (user["id"], user["email"]) == (ada.account.id, "ada@example.com")
    assert [s["id"] for s in user["sessions"]] == [ada.ids["Session"]]
    assert {e["node"]["user"]["id"] for e in user["auditLogs"]["edges"]} == {ada.account.id}


async def test_another_users_profile_cannot_be_walked_to_its_user(client: GraphQLClient) -> None:
    victim = await register_owner(client, "victim@example.com")
    mallory = await client.register("mallory@example.com")
    query = """
    query P($id: ID!) {
      node(id: $id) { ... on UserProfile { user { id email sessions { id ipAddress } } } }
    }"""

    result = await client.execute(
        query, {"id": victim.ids["UserProfile"]}, token=mallory.access_token
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert "victim@example.com" not in result.http.text
    assert victim.ids["Session"] not in result.http.text


async def test_another_users_audit_entry_cannot_be_walked_to_its_user(
    client: GraphQLClient,
) -> None:
    victim = await register_owner(client, "victim@example.com")
    mallory = await client.register("mallory@example.com")
    query = """
    query A($id: ID!) {
      node(id: $id) { ... on AuditLog { changes user { id email auditLogs { totalCount } } } }
    }"""

    result = await client.execute(query, {"id": victim.ids["AuditLog"]}, token=mallory.access_token)

    assert result.error_codes == ["FORBIDDEN"]
    assert "victim@example.com" not in result.http.text


@pytest.mark.parametrize("field", ["sessions { id ipAddress }", "auditLogs { totalCount }"])
async def test_another_users_sessions_and_trail_are_forbidden_through_user_and_node(
    client: GraphQLClient, field: str
) -> None:
    victim = await register_owner(client, "victim@example.com")
    mallory = await client.register("mallory@example.com")
    queries = [
        f"query Q($id: ID!) {{ user(id: $id) {{ {field} }} }}",
        f"query Q($id: ID!) {{ node(id: $id) {{ ... on User {{ {field} }} }} }}",
    ]

    for query in queries:
        result = await client.execute(query, {"id": victim.account.id}, token=mallory.access_token)

        assert result.error_codes == ["FORBIDDEN"], query
        assert victim.ids["Session"] not in result.http.text


async def test_ids_of_others_in_ones_own_trail_open_nothing(
    client: GraphQLClient, app: Starlette, engine: AsyncEngine, redis: Redis
) -> None:
    # Given staff who signed one of Ada's sessions out: Ada's LOGOUT entry names them.
    staff = await register_staff(client, engine, redis)
    async with device(app) as ada_client:
        ada = await ada_client.register("ada@example.com")
        spare = await ada_client.login("ada@example.com")
        (
            await client.execute(
                REVOKE_SESSION, {"id": session_id_of(spare.access_token)}, token=staff.access_token
            )
        ).ok()
        query = """
        { me { auditLogs(first: 100) { edges { node { action changes user { id } } } } } }"""
        edges = (await ada_client.execute(query, token=ada.access_token)).ok()["me"]["auditLogs"][
            "edges"
        ]
        (logout,) = [e["node"] for e in edges if e["node"]["action"] == "LOGOUT"]
        assert logout["changes"]["revokedBy"] == staff.id
        assert logout["user"] == {"id": ada.id}
        staff_session = session_id_of(staff.access_token)

        # When Ada follows the ids she was shown
        as_node = await ada_client.execute(NODE, {"id": staff.id}, token=ada.access_token)
        as_user = await ada_client.execute(
            "query U($id: ID!) { user(id: $id) { email sessions { id } } }",
            {"id": staff.id},
            token=ada.access_token,
        )
        as_session = await ada_client.execute(NODE, {"id": staff_session}, token=ada.access_token)

    # Then every door stays shut
    assert as_node.error_codes == ["FORBIDDEN"]
    assert as_user.error_codes == ["FORBIDDEN"]
    assert as_session.error_codes == ["FORBIDDEN"]
    assert "staff@example.com" not in as_node.http.text + as_user.http.text


async def test_an_object_of_each_kind_is_found_with_one_id_for_staff(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    ada = await register_owner(client, "ada@example.com")
    bob = await register_owner(client, "bob@example.com")
    staff = await register_staff(client, engine, redis)

    kinds = {owner.ids[kind]: kind for owner in (ada, bob) for kind in KINDS}
    for object_id, kind in kinds.items():
        result = await client.execute(NODE, {"id": object_id}, token=staff.access_token)

        assert result.ok()["node"]["__typename"] == kind
