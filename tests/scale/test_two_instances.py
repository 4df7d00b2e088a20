"""Two API processes and one worker process on the same PostgreSQL and Redis: what must
be shared is shared. A session ended through one instance is refused by the other at
once; rate limits count requests to both; a profile edited through one is never stale
through the other; a subscriber on one sees audit entries written through the other; an
email asked for through one is sent once by the worker.

(Killing the worker mid-job loses no email: tests/jobs/test_outbox_delivery.py,
test_a_new_worker_delivers_what_a_killed_worker_left_exactly_once, kills a worker process
while its first email is in flight.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.scale.conftest import LOGIN_LIMIT
from tests.support.accounts import LOGOUT, make_staff
from tests.support.api_process import ApiProcess
from tests.support.email_flows import REQUEST_PASSWORD_RESET, RESET_SUBJECT
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, ME, GraphQLClient
from tests.support.smtp import SmtpServer
from tests.support.worker import WorkerProcess, wait_until_outbox_settled

EVENT_TIMEOUT = 15.0
ME_NAME = "query { me { id firstName } }"
UPDATE_NAME = """
mutation Rename($name: String!) { updateProfile(input: {firstName: $name}) { firstName } }"""
SUBSCRIBE = """
subscription Watch($filter: AuditLogFilter) {
  auditLogAdded(filter: $filter) { action user { email } }
}"""


@pytest.fixture
async def a(instance_a: ApiProcess) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=instance_a.base_url, timeout=30) as http:
        yield GraphQLClient(http)


@pytest.fixture
async def b(instance_b: ApiProcess) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=instance_b.base_url, timeout=30) as http:
        yield GraphQLClient(http)


def login_as(email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    return {"input": {"email": email, "password": password}}


async def test_a_session_ended_through_one_instance_is_refused_by_the_other_at_once(
    a: GraphQLClient, b: GraphQLClient
) -> None:
    account = await a.register("ada@example.com")
    # B has seen the session live (and remembered so in Redis).
    assert (await b.execute(ME, token=account.access_token)).ok()["me"]["id"] == account.id

    logged_out = await a.execute(
        LOGOUT, {"token": account.refresh_token}, token=account.access_token
    )

    assert logged_out.ok() == {"logout": True}
    refused = await b.execute(ME, token=account.access_token)
    assert refused.error_codes == ["UNAUTHENTICATED"]


async def test_login_attempts_through_both_instances_count_against_one_limit(
    a: GraphQLClient, b: GraphQLClient
) -> None:
    await a.register("grace@example.com")
    instances = [a, b] * LOGIN_LIMIT

    for client in instances[:LOGIN_LIMIT]:  # half through A, half through B
        (await client.execute(LOGIN, login_as("grace@example.com"))).ok()
    limited = await instances[LOGIN_LIMIT].execute(LOGIN, login_as("grace@example.com"))

    assert limited.error_codes == ["RATE_LIMITED"]
    assert int(limited.http.headers["retry-after"]) > 0


async def test_a_profile_edited_through_one_instance_is_read_fresh_through_the_other(
    a: GraphQLClient, b: GraphQLClient
) -> None:
    account = await a.register("linus@example.com", firstName="Linus")
    before = await b.execute(ME_NAME, token=account.access_token)  # cached by B
    assert before.ok()["me"]["firstName"] == "Linus"

    renamed = await a.execute(UPDATE_NAME, {"name": "Lin"}, token=account.access_token)

    assert renamed.ok() == {"updateProfile": {"firstName": "Lin"}}
    after = await b.execute(ME_NAME, token=account.access_token)
    assert after.ok()["me"]["firstName"] == "Lin"


async def subscribe(base_url: str, token: str, filter: dict[str, Any]) -> ClientConnection:
    ws = await connect(
        base_url.replace("http", "ws", 1) + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
    )
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    ack = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT))
    assert ack["type"] == "connection_ack", ack
    query = {"query": SUBSCRIBE, "variables": {"filter": filter}}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": query}))
    # Live once the server has subscribed to Redis: a pause keeps the write after that.
    await asyncio.sleep(1.0)
    return ws


async def test_a_subscriber_on_one_instance_receives_entries_written_through_the_other(
    a: GraphQLClient,
    b: GraphQLClient,
    instance_a: ApiProcess,
    engine: AsyncEngine,
    redis: Redis,
) -> None:
    staff = await a.register("watcher@example.com")
    await make_staff(engine, staff.id, redis)
    ws = await subscribe(instance_a.base_url, staff.access_token, {"actions": ["REGISTER"]})

    await b.register("margaret@example.com")

    message = json.loads(await asyncio.wait_for(ws.recv(), EVENT_TIMEOUT))
    await ws.close()
    assert message["type"] == "next", message
    assert message["payload"]["data"]["auditLogAdded"] == {
        "action": "REGISTER",
        "user": {"email": "margaret@example.com"},
    }


async def test_an_email_asked_for_through_one_instance_is_sent_once_by_the_worker(
    a: GraphQLClient,
    b: GraphQLClient,
    worker_process: WorkerProcess,
    shared_smtp: SmtpServer,
    engine: AsyncEngine,
) -> None:
    await b.register("barbara@example.com")
    await wait_until_outbox_settled(engine)  # the welcome email is out of the way

    asked = await a.execute(REQUEST_PASSWORD_RESET, {"email": "barbara@example.com"})

    assert asked.ok() == {"requestPasswordReset": True}
    await shared_smtp.capture.wait_for(1, to="barbara@example.com", subject=RESET_SUBJECT)
    await wait_until_outbox_settled(engine)
    await asyncio.sleep(1.0)  # time for a duplicate to arrive, were there one
    assert len(shared_smtp.capture.to("barbara@example.com", subject=RESET_SUBJECT)) == 1
