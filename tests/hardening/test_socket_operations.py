"""Every operation on a websocket is checked as an HTTP request would be at that
moment: its own unit of work, its token verified again (session live, not expired,
rights current), the per-IP request budget charged; mutations go over HTTP only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.exceptions import ConnectionClosed

from api.settings import Settings
from tests.conftest import make_settings
from tests.support.accounts import LOGOUT, forget_user, make_staff, scalar
from tests.support.graphql import Account, GraphQLClient
from tests.support.live_server import live_server
from tests.support.services import UNREACHABLE_DATABASE
from tests.support.sockets import (
    acknowledged_socket,
    error_codes,
    open_socket,
    receive,
    run_operation,
    send_operation,
)

USERS = "query { users(first: 5) { edges { node { email } } } }"
ME = "query { me { email } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(id: $id) { id isActive } }"
WATCH = "subscription { auditLogAdded { action user { email } } }"
TOKEN_SECONDS = 3


@pytest.fixture(scope="module")
def server_url(database_url: str, redis_url: str) -> Iterator[str]:
    # Short-lived access tokens, and a per-IP budget a test can spend.
    settings: Settings = make_settings(
        database_url,
        redis_url,
        access_token_ttl_seconds=TOKEN_SECONDS,
        rate_requests_ip="40/60",
    )
    with live_server(settings, "uvicorn-socket-operations") as url:
        yield url


@pytest.fixture
async def http(server_url: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server_url) as client:
        yield GraphQLClient(client)


@pytest.fixture
async def staff(http: GraphQLClient, engine: AsyncEngine, redis: Redis) -> Account:
    account = await http.register("watcher@example.com")
    await make_staff(engine, account.id, redis)
    return account


async def test_every_operation_on_one_socket_gets_its_own_unit_of_work(
    server_url: str, staff: Account
) -> None:
    ws = await acknowledged_socket(server_url, staff.access_token)

    first = await run_operation(ws, "1", USERS)
    second = await run_operation(ws, "2", USERS)

    assert (
        first
        == second
        == {"data": {"users": {"edges": [{"node": {"email": "watcher@example.com"}}]}}}
    )
    await ws.close()


async def test_a_second_subscription_on_one_socket_resolves_its_entries_user(
    server_url: str, http: GraphQLClient, staff: Account
) -> None:
    ws = await acknowledged_socket(server_url, staff.access_token)
    await run_operation(ws, "q", ME)  # an earlier operation on the same socket
    await send_operation(ws, "w1", WATCH)
    await send_operation(ws, "w2", WATCH)
    await asyncio.sleep(0.5)  # both subscribed to the feed

    await http.register("ada@example.com")

    entries = {}
    for _ in range(2):
        message = await receive(ws)
        assert message["type"] == "next", message
        entries[message["id"]] = message["payload"]
    expected = {
        "data": {"auditLogAdded": {"action": "REGISTER", "user": {"email": "ada@example.com"}}}
    }
    assert entries == {"w1": expected, "w2": expected}
    await ws.close()


async def test_a_query_on_a_socket_opened_before_a_logout_is_unauthenticated(
    server_url: str, http: GraphQLClient, staff: Account
) -> None:
    ws = await acknowledged_socket(server_url, staff.access_token)
    assert error_codes(await run_operation(ws, "1", USERS)) == []

    await http.execute(LOGOUT, {"token": staff.refresh_token}, token=staff.access_token)

    assert error_codes(await run_operation(ws, "2", USERS)) == ["UNAUTHENTICATED"]
    await ws.close()


async def test_a_query_on_a_socket_after_its_token_expired_is_unauthenticated(
    server_url: str, staff: Account
) -> None:
    ws = await acknowledged_socket(server_url, staff.access_token)

    await asyncio.sleep(TOKEN_SECONDS + 1.5)

    assert error_codes(await run_operation(ws, "1", USERS)) == ["UNAUTHENTICATED"]
    await ws.close()


async def test_a_query_on_a_socket_of_a_demoted_user_is_forbidden(
    server_url: str, staff: Account, engine: AsyncEngine, redis: Redis
) -> None:
    ws = await acknowledged_socket(server_url, staff.access_token)

    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET is_staff = false WHERE id = :id"), {"id": staff.id}
        )
    await forget_user(redis, staff.id)  # as the demoting write would

    assert error_codes(await run_operation(ws, "1", USERS)) == ["FORBIDDEN"]
    await ws.close()


async def test_a_mutation_on_a_socket_is_refused_and_changes_nothing(
    server_url: str, http: GraphQLClient, staff: Account, engine: AsyncEngine
) -> None:
    target = await http.register("target@example.com")
    ws = await acknowledged_socket(server_url, staff.access_token)

    result = await run_operation(ws, "1", DEACTIVATE, {"id": target.id})

    assert error_codes(result) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "POST" in result["errors"][0]["message"]
    assert await scalar(engine, "SELECT is_active FROM users WHERE email = 'target@example.com'")
    await ws.close()


async def test_operations_on_a_socket_spend_the_per_ip_request_budget(
    server_url: str, staff: Account
) -> None:
    ws = await acknowledged_socket(server_url, staff.access_token)

    codes = [error_codes(await run_operation(ws, str(n), ME)) for n in range(45)]

    assert codes[0] == []
    assert ["RATE_LIMITED"] in codes
    await ws.close()


async def test_a_socket_whose_token_cannot_be_checked_closes_with_try_again_later(
    client: GraphQLClient, settings: Settings, redis_url: str, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await client.register("watcher@example.com")
    await make_staff(engine, staff.id, redis)
    await redis.flushdb()  # no cached session or user: PostgreSQL must be asked
    broken = make_settings(
        UNREACHABLE_DATABASE, redis_url, jwt_secret=settings.jwt_secret.get_secret_value()
    )
    with live_server(broken, "uvicorn-socket-no-database") as url:
        ws = await open_socket(url, staff.access_token)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(ws)

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1013, "Try again later")
