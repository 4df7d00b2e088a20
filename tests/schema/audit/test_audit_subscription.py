"""auditLogAdded: staff watch the audit trail live over graphql-transport-ws, on any
instance, and see only what was committed."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from api.settings import Settings
from tests.support.accounts import LOGOUT, forget_user, make_staff
from tests.support.graphql import DEFAULT_PASSWORD, REGISTER, Account, GraphQLClient
from tests.support.live_server import live_server
from tests.support.sockets import open_socket

SUBSCRIBE = """
subscription Watch($filter: AuditLogFilter) {
  auditLogAdded(filter: $filter) { action modelName user { email } }
}"""
EVENT_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def server_url(settings: Settings) -> Iterator[str]:
    with live_server(settings, "uvicorn-subscriptions") as url:
        yield url


@pytest.fixture(scope="module")
def second_server_url(settings: Settings) -> Iterator[str]:
    """Another API instance on the same PostgreSQL and Redis."""
    with live_server(settings, "uvicorn-subscriptions-2") as url:
        yield url


@pytest.fixture
async def http(server_url: str) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server_url) as client:
        yield GraphQLClient(client)


async def staff_account(http: GraphQLClient, engine: AsyncEngine, redis: Redis) -> Account:
    staff = await http.register("watcher@example.com")
    await make_staff(engine, staff.id, redis)
    return staff


async def staff_token(http: GraphQLClient, engine: AsyncEngine, redis: Redis) -> str:
    return (await staff_account(http, engine, redis)).access_token


async def subscribe(url: str, token: str, filter: dict[str, Any] | None = None) -> ClientConnection:
    ws = await open_socket(url, token)
    ack = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT))
    assert ack["type"] == "connection_ack"
    query = {"query": SUBSCRIBE, "variables": {"filter": filter}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))
    # The subscription is live once the server has subscribed to Redis; a short pause
    # keeps the test from writing before that.
    await asyncio.sleep(0.5)
    return ws


async def next_error_codes(ws: ClientConnection) -> list[str]:
    """The codes of the next message's errors: the subscription's end, not an entry."""
    message = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT))
    assert message["type"] in ("next", "error"), message
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload.get("errors", [])
    assert not (isinstance(payload, dict) and payload.get("data")), message
    return [error["extensions"]["code"] for error in errors]


async def next_entry(ws: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT))
    assert message["type"] == "next", message
    entry: dict[str, Any] = message["payload"]["data"]["auditLogAdded"]
    return entry


async def test_staff_receive_an_entry_for_a_login_made_through_the_api(
    server_url: str, http: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    token = await staff_token(http, engine, redis)
    await http.register("ada@example.com")
    ws = await subscribe(server_url, token, {"actions": ["LOGIN"]})

    await http.login("ada@example.com", DEFAULT_PASSWORD)

    assert await next_entry(ws) == {
        "action": "LOGIN",
        "modelName": "User",
        "user": {"email": "ada@example.com"},
    }
    await ws.close()


async def test_an_entry_written_through_one_instance_reaches_a_subscriber_on_another(
    server_url: str, second_server_url: str, http: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    token = await staff_token(http, engine, redis)
    ws = await subscribe(second_server_url, token, {"actions": ["REGISTER"]})

    await http.register("grace@example.com")

    assert (await next_entry(ws))["user"] == {"email": "grace@example.com"}
    await ws.close()


async def test_a_rolled_back_write_publishes_nothing(
    server_url: str, http: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    token = await staff_token(http, engine, redis)
    await http.register("taken@example.com")
    ws = await subscribe(server_url, token)

    duplicate = {"input": {"email": "taken@example.com", "password": "another good password"}}
    assert (await http.execute(REGISTER, duplicate)).error_codes == ["CONFLICT"]
    await http.login("taken@example.com", DEFAULT_PASSWORD)

    # The first entry to arrive is the login: the failed registration left nothing.
    assert (await next_entry(ws))["action"] == "LOGIN"
    await ws.close()


async def test_the_filter_keeps_other_actions_out(
    server_url: str, http: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    token = await staff_token(http, engine, redis)
    await http.register("ada@example.com")
    ws = await subscribe(server_url, token, {"actions": ["LOGIN"]})

    await http.register("noise@example.com")
    await http.login("ada@example.com", DEFAULT_PASSWORD)

    assert (await next_entry(ws))["action"] == "LOGIN"
    await ws.close()


@pytest.mark.parametrize("who", ["a signed-in non-staff user", "an anonymous client"])
async def test_a_connection_without_staff_rights_is_refused(
    server_url: str, http: GraphQLClient, who: str
) -> None:
    token = (await http.register("ada@example.com")).access_token if "non-staff" in who else None
    ws = await open_socket(server_url, token)

    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT)

    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_subscription_stops_delivering_once_its_session_is_signed_out(
    server_url: str, http: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await staff_account(http, engine, redis)
    ws = await subscribe(server_url, staff.access_token, {"actions": ["REGISTER"]})
    await http.execute(LOGOUT, {"token": staff.refresh_token}, token=staff.access_token)

    await http.register("after-logout@example.com")

    assert await next_error_codes(ws) == ["UNAUTHENTICATED"]
    await ws.close()


async def test_a_subscription_stops_delivering_once_its_user_is_no_longer_staff(
    server_url: str, http: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await staff_account(http, engine, redis)
    ws = await subscribe(server_url, staff.access_token, {"actions": ["REGISTER"]})
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET is_staff = false WHERE id = :id"), {"id": uuid.UUID(staff.id)}
        )
    await forget_user(redis, staff.id)

    await http.register("after-demotion@example.com")

    assert await next_error_codes(ws) == ["FORBIDDEN"]
    await ws.close()
