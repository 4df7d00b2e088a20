"""Helpers for the staff-facing tests: users, the user list, the audit trail and node.

Rows inserted here go straight into PostgreSQL, behind the app's back; they are new
rows, so no cached record can be stale. Anything that *changes* an existing user by
SQL must call tests.support.accounts.forget_user afterwards."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.accounts import make_staff
from tests.support.graphql import Account, GraphQLClient, Response

# A fixed past, so that rows inserted by SQL sort before anyone registered by the API.
T0 = datetime(2024, 1, 1, tzinfo=UTC)

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
USER_FIELDS = "id email username firstName lastName isActive isStaff dateJoined lastLogin"
AUDIT_FIELDS = "id action modelName objectId changes ipAddress createdAt user { id }"

USER = f"query User($id: ID!) {{ user(id: $id) {{ {USER_FIELDS} }} }}"

USERS = f"""
query Users(
  $first: Int, $after: String, $last: Int, $before: String,
  $filter: UserFilter, $orderBy: UserOrder
) {{
  users(
    first: $first, after: $after, last: $last, before: $before,
    filter: $filter, orderBy: $orderBy
  ) {{
    totalCount
    {PAGE_INFO}
    edges {{ cursor node {{ {USER_FIELDS} }} }}
  }}
}}"""

AUDIT_LOGS = f"""
query AuditLogs(
  $first: Int, $after: String, $last: Int, $before: String, $filter: AuditLogFilter
) {{
  auditLogs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {{
    totalCount
    {PAGE_INFO}
    edges {{ cursor node {{ {AUDIT_FIELDS} }} }}
  }}
}}"""

ME_AUDIT_LOGS = f"""
query MyAuditLogs($first: Int, $after: String, $last: Int, $before: String) {{
  me {{
    auditLogs(first: $first, after: $after, last: $last, before: $before) {{
      totalCount
      {PAGE_INFO}
      edges {{ cursor node {{ {AUDIT_FIELDS} }} }}
    }}
  }}
}}"""

DEACTIVATE = "mutation Deactivate($id: ID!) { deactivateUser(id: $id) { id isActive } }"
REACTIVATE = "mutation Reactivate($id: ID!) { reactivateUser(id: $id) { id isActive } }"

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on User { email isActive }
    ... on UserProfile { phone profileUser: user { id } }
    ... on AuditLog { action modelName auditUser: user { id } }
    ... on Session { current ipAddress userAgent }
  }
}"""


async def register_staff(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, email: str = "staff@example.com"
) -> Account:
    """A signed-in staff member (registered through the API, promoted by SQL)."""
    account = await client.register(email)
    await make_staff(engine, account.id, redis)
    return account


async def insert_user(
    engine: AsyncEngine,
    email: str,
    *,
    username: str | None = None,
    first_name: str = "",
    last_name: str = "",
    is_active: bool = True,
    is_staff: bool = False,
    joined: datetime | None = None,
    last_login: datetime | None = None,
    deleted_at: datetime | None = None,
) -> str:
    """A user (and its empty profile) written by SQL; it cannot sign in. Returns its id."""
    user_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, email, username, password_hash, first_name, last_name, "
                "is_active, is_staff, last_login, created_at, updated_at, deleted_at) "
                "VALUES (:id, :email, :username, 'not-a-hash', :first_name, :last_name, "
                ":is_active, :is_staff, :last_login, coalesce(:joined, now()), now(), "
                ":deleted_at)"
            ),
            {
                "id": user_id,
                "email": email,
                "username": username or email.split("@", 1)[0],
                "first_name": first_name,
                "last_name": last_name,
                "is_active": is_active,
                "is_staff": is_staff,
                "last_login": last_login,
                "joined": joined,
                "deleted_at": deleted_at,
            },
        )
        await connection.execute(
            text("INSERT INTO user_profiles (id, user_id) VALUES (:id, :user_id)"),
            {"id": uuid.uuid4(), "user_id": user_id},
        )
    return str(user_id)


async def insert_audit(
    engine: AsyncEngine,
    *,
    user_id: str | None,
    action: str,
    created_at: datetime,
    model_name: str = "User",
    object_id: str | None = None,
    changes: dict[str, Any] | None = None,
) -> str:
    """An audit row written by SQL at a chosen time. Returns its id."""
    entry_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO audit_logs (id, user_id, action, model_name, object_id, changes, "
                "created_at) VALUES (:id, :user_id, :action, :model_name, :object_id, "
                "CAST(:changes AS jsonb), :created_at)"
            ),
            {
                "id": entry_id,
                "user_id": uuid.UUID(user_id) if user_id is not None else None,
                "action": action,
                "model_name": model_name,
                "object_id": object_id,
                "changes": json.dumps(changes or {}),
                "created_at": created_at,
            },
        )
    return str(entry_id)


async def audit_ids_of(engine: AsyncEngine, user_id: str) -> list[str]:
    """The ids of a user's audit rows, newest first (the API's order)."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id FROM audit_logs WHERE user_id = :id ORDER BY created_at DESC, id DESC"),
            {"id": uuid.UUID(user_id)},
        )
        return [str(row[0]) for row in rows]


@dataclass(frozen=True)
class Connection:
    """One page of a connection, as the API returned it."""

    ids: list[str]
    nodes: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool
    start_cursor: str | None
    end_cursor: str | None
    total: int

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Connection:
        edges = payload["edges"]
        info = payload["pageInfo"]
        return cls(
            ids=[edge["node"]["id"] for edge in edges],
            nodes=[edge["node"] for edge in edges],
            cursors=[edge["cursor"] for edge in edges],
            has_next=info["hasNextPage"],
            has_previous=info["hasPreviousPage"],
            start_cursor=info["startCursor"],
            end_cursor=info["endCursor"],
            total=payload["totalCount"],
        )


def connection(result: Response, path: str) -> Connection:
    """The connection at `path` in the data: "users", or dotted as "me.auditLogs"."""
    payload: dict[str, Any] = result.ok()
    for name in path.split("."):
        payload = payload[name]
    return Connection.of(payload)


async def users_page(client: GraphQLClient, token: str, **variables: Any) -> Connection:
    return connection(await client.execute(USERS, variables, token=token), "users")


async def audit_page(client: GraphQLClient, token: str, **variables: Any) -> Connection:
    return connection(await client.execute(AUDIT_LOGS, variables, token=token), "auditLogs")


MAX_PAGES = 50


async def walk_forward(
    client: GraphQLClient, query: str, path: str, token: str, size: int, **variables: Any
) -> list[Connection]:
    """Every page from the start with first/after, checking pageInfo on the way."""
    pages: list[Connection] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        result = await client.execute(
            query, {**variables, "first": size, "after": after}, token=token
        )
        page = connection(result, path)
        assert page.has_previous == (after is not None)
        assert page.start_cursor == (page.cursors[0] if page.cursors else None)
        assert page.end_cursor == (page.cursors[-1] if page.cursors else None)
        pages.append(page)
        if not page.has_next:
            assert len(page.ids) <= size
            return pages
        assert len(page.ids) == size
        after = page.end_cursor
    raise AssertionError(f"more than {MAX_PAGES} pages")


async def walk_backward(
    client: GraphQLClient, query: str, path: str, token: str, size: int, **variables: Any
) -> list[Connection]:
    """Every page from the end with last/before, checking pageInfo on the way."""
    pages: list[Connection] = []
    before: str | None = None
    for _ in range(MAX_PAGES):
        result = await client.execute(
            query, {**variables, "last": size, "before": before}, token=token
        )
        page = connection(result, path)
        assert page.has_next == (before is not None)
        assert page.start_cursor == (page.cursors[0] if page.cursors else None)
        assert page.end_cursor == (page.cursors[-1] if page.cursors else None)
        pages.append(page)
        if not page.has_previous:
            assert len(page.ids) <= size
            return pages
        assert len(page.ids) == size
        before = page.start_cursor
    raise AssertionError(f"more than {MAX_PAGES} pages")


def forward_ids(pages: list[Connection]) -> list[str]:
    return [node_id for page in pages for node_id in page.ids]


def backward_ids(pages: list[Connection]) -> list[str]:
    """The ids of pages walked backwards, put back in the list's order."""
    return [node_id for page in reversed(pages) for node_id in page.ids]
