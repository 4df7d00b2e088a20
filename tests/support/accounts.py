"""Account helpers for the tests: extra devices, staff via SQL, cookies and audit rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from api.infra.cache import PROFILE, USER, RecordCache
from tests.support.graphql import GraphQLClient, Response

CLIENT_IP = "203.0.113.7"
REFRESH_COOKIE = "glassshop_refresh"

ME_SESSIONS = """
query { me { sessions { id current userAgent ipAddress createdAt lastUsedAt expiresAt } } }"""

LOGOUT = """
mutation Logout($token: String, $everywhere: Boolean) {
  logout(refreshToken: $token, everywhere: $everywhere)
}"""

REVOKE_SESSION = "mutation Revoke($id: ID!) { revokeSession(id: $id) }"


@asynccontextmanager
async def device(
    app: ASGIApp, *, ip: str = CLIENT_IP, user_agent: str | None = None
) -> AsyncIterator[GraphQLClient]:
    """Another browser or device on the same app, with a cookie jar of its own."""
    transport = httpx.ASGITransport(app=app, client=(ip, 50001))
    headers = {"user-agent": user_agent} if user_agent else {}
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", headers=headers
    ) as http:
        yield GraphQLClient(http)


async def make_staff(engine: AsyncEngine, user_id: str, redis: Redis | None = None) -> None:
    """Promote by SQL. Pass `redis` when the user may already be cached by the app."""
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET is_staff = true WHERE id = :id"), {"id": uuid.UUID(user_id)}
        )
    if redis is not None:
        await forget_user(redis, user_id)


async def forget_user(redis: Redis, user_id: str) -> None:
    """What the app does after its own writes: SQL written behind its back must do it too."""
    cache = RecordCache(redis)
    await cache.invalidate(USER, [uuid.UUID(user_id)])
    await cache.invalidate(PROFILE, [uuid.UUID(user_id)])


async def scalar(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as connection:
        return (await connection.execute(text(sql), params)).scalar_one()


async def audit_rows(engine: AsyncEngine, action: str) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT user_id, action, model_name, object_id, changes, ip_address, "
                "user_agent, request_id FROM audit_logs WHERE action = :action "
                "ORDER BY created_at, id"
            ),
            {"action": action},
        )
        return [dict(row._mapping) for row in rows]


async def live_session_ids(engine: AsyncEngine, user_id: str) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id FROM auth_sessions WHERE user_id = :id AND revoked_at IS NULL"),
            {"id": uuid.UUID(user_id)},
        )
        return {str(row[0]) for row in rows}


async def is_signed_in(client: GraphQLClient, access_token: str) -> bool:
    """True when `me` answers with the user; False when the token is refused."""
    result = await client.execute("{ me { id } }", token=access_token)
    if result.errors:
        assert result.error_codes == ["UNAUTHENTICATED"], result.errors
        return False
    return result.data["me"] is not None


async def can_refresh(client: GraphQLClient, refresh_token: str) -> bool:
    result = await client.refresh(refresh_token)
    if result.errors:
        assert result.error_codes == ["UNAUTHENTICATED"], result.errors
        return False
    return True


@dataclass(frozen=True)
class SetCookie:
    name: str
    value: str
    attributes: dict[str, str]  # lower-cased names; flags map to ""


def set_cookies(response: Response, name: str = REFRESH_COOKIE) -> list[SetCookie]:
    """The response's Set-Cookie headers for `name`, parsed as written."""
    found = []
    for header in response.http.headers.get_list("set-cookie"):
        first, *rest = (part.strip() for part in header.split(";"))
        cookie_name, _, value = first.partition("=")
        if cookie_name != name:
            continue
        attributes = {}
        for part in rest:
            key, _, attr_value = part.partition("=")
            attributes[key.strip().lower()] = attr_value.strip()
        found.append(SetCookie(cookie_name, value.strip('"'), attributes))
    return found


def the_set_cookie(response: Response, name: str = REFRESH_COOKIE) -> SetCookie:
    cookies = set_cookies(response, name)
    assert len(cookies) == 1, response.http.headers.get_list("set-cookie")
    return cookies[0]


def session_id_of(access_token: str) -> str:
    """The session an access token belongs to (its `sid` claim)."""
    claims: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return str(claims["sid"])
