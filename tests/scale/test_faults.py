"""Outages, through a TCP fault proxy in front of PostgreSQL and in front of Redis, under a
small bounded load (concurrent clients signing in and reading `me` in a loop).

- Redis cut: sign-ins and reads keep working (cache bypassed, rate limits counted per
  process, revocation checked in PostgreSQL); /readyz says "degraded" but stays 200.
  Redis back: the cache is used again and /readyz is "ready".
- Redis hung (connections accepted, no byte forwarded): requests still finish, bounded
  by the Redis socket timeout.
- PostgreSQL cut: clients get SERVICE_UNAVAILABLE, with no SQL or stack in the answer,
  at once. PostgreSQL back: the same instance serves again, no restart.
- PostgreSQL hung: SERVICE_UNAVAILABLE within the request timeout, then recovery.

The real servers are never stopped or restarted: other test runs on this machine use
them. Cutting every connection at the proxy (and refusing new ones) is what a client sees
of a restart, and what is tested here. The bounds below only turn a hang into a failure;
they assert liveness, not speed."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from api.app import create_app
from api.resources import Resources
from tests.conftest import make_settings
from tests.support.fault_proxy import FaultProxy, fault_proxy
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, ME, Account, GraphQLClient
from tests.support.worker import wait_until

CLIENTS = 4
LOAD_SECONDS = 3.0
REQUEST_TIMEOUT = 5.0
REDIS_SOCKET_TIMEOUT = 0.5
# Generous: a request that has not finished by then is hung.
LIVENESS_BOUND = 60.0
# Words of a cause that must never reach a client's error (tokens in data may hold anything).
LEAKS = ("asyncpg", "sqlalchemy", "redis", "traceback", "select ", "connect call", "127.0.0.1")


@pytest.fixture(scope="module")
def postgres_proxy(database_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(database_url.replace("postgresql+asyncpg://", "postgresql://", 1)) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def redis_proxy(redis_url: str) -> Iterator[FaultProxy]:
    with fault_proxy(redis_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
async def app(
    database_url: str, redis_url: str, postgres_proxy: FaultProxy, redis_proxy: FaultProxy
) -> AsyncIterator[Starlette]:
    """One instance whose PostgreSQL and Redis are behind the proxies."""
    settings = make_settings(
        postgres_proxy.url_for(database_url),
        redis_proxy.url_for(redis_url),
        request_timeout_seconds=REQUEST_TIMEOUT,
        redis_socket_timeout_seconds=REDIS_SOCKET_TIMEOUT,
    )
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture(autouse=True)
def network_restored(postgres_proxy: FaultProxy, redis_proxy: FaultProxy) -> Iterator[None]:
    postgres_proxy.resume()
    redis_proxy.resume()
    yield
    postgres_proxy.resume()
    redis_proxy.resume()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield GraphQLClient(http)


@pytest.fixture
async def accounts(client: GraphQLClient) -> list[Account]:
    return [await client.register(f"load{n}@example.com") for n in range(CLIENTS)]


def resources_of(app: Starlette) -> Resources:
    resources: Resources = app.state.resources
    return resources


def outcome(reply_status: int, body: dict[str, object]) -> str:
    """ "ok", or the error code the client was given."""
    errors = body.get("errors")
    if not errors:
        return "ok" if reply_status == 200 else f"http {reply_status}"
    assert isinstance(errors, list)
    return str(errors[0].get("extensions", {}).get("code"))


async def run_load(client: GraphQLClient, accounts: list[Account]) -> Counter[str]:
    """Each account signs in and reads `me`, alternately, for LOAD_SECONDS; the outcomes
    of every request, counted. Fails if the load does not end within LIVENESS_BOUND."""
    outcomes: Counter[str] = Counter()
    leaked: list[str] = []
    deadline = time.monotonic() + LOAD_SECONDS

    async def one_client(account: Account) -> None:
        for step in itertools.count():
            if time.monotonic() > deadline:
                return
            if step % 2:
                variables = {"input": {"email": account.email, "password": DEFAULT_PASSWORD}}
                result = await client.execute(LOGIN, variables)
            else:
                result = await client.execute(ME, token=account.access_token)
            outcomes[outcome(result.status, result.body)] += 1
            errors = json.dumps(result.errors).lower()
            leaked.extend(word for word in LEAKS if word in errors)

    await asyncio.wait_for(
        asyncio.gather(*(one_client(account) for account in accounts)), LIVENESS_BOUND
    )
    assert not leaked, f"the answers mention {set(leaked)}"
    return outcomes


async def readyz(client: GraphQLClient) -> tuple[int, dict[str, object]]:
    reply = await asyncio.wait_for(client.http.get("/readyz"), LIVENESS_BOUND)
    return reply.status_code, reply.json()


# --- Redis ---


async def test_with_redis_cut_logins_and_reads_keep_working(
    client: GraphQLClient, accounts: list[Account], redis_proxy: FaultProxy
) -> None:
    redis_proxy.cut()

    outcomes = await run_load(client, accounts)

    assert set(outcomes) == {"ok"}, outcomes


async def test_with_redis_cut_the_instance_reports_itself_degraded_but_ready(
    client: GraphQLClient, redis_proxy: FaultProxy
) -> None:
    redis_proxy.cut()

    assert await readyz(client) == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "redis": "unavailable"}},
    )


async def test_when_redis_is_back_the_cache_is_used_again(
    app: Starlette, client: GraphQLClient, accounts: list[Account], redis_proxy: FaultProxy
) -> None:
    redis_proxy.cut()
    await run_load(client, accounts[:1])
    redis_proxy.resume()

    async def ready() -> bool:
        return (await readyz(client))[1]["status"] == "ready"

    await wait_until(ready, within=LIVENESS_BOUND, what="/readyz ready again")
    stats = resources_of(app).cache.stats
    me = accounts[0]
    (await client.execute(ME, token=me.access_token)).ok()  # a miss: stored again
    hits = stats.hits
    (await client.execute(ME, token=me.access_token)).ok()

    assert stats.hits > hits


async def test_with_redis_hung_requests_still_finish(
    client: GraphQLClient, accounts: list[Account], redis_proxy: FaultProxy
) -> None:
    redis_proxy.blackhole()

    outcomes = await run_load(client, accounts)

    assert outcomes and set(outcomes) <= {"ok", "SERVICE_UNAVAILABLE"}, outcomes
    assert outcomes["ok"] > 0, outcomes


# --- PostgreSQL ---


async def test_with_postgresql_cut_clients_get_service_unavailable_without_details(
    client: GraphQLClient, accounts: list[Account], postgres_proxy: FaultProxy
) -> None:
    postgres_proxy.cut()

    outcomes = await run_load(client, accounts)

    # Signing in needs PostgreSQL; `me` may still be answered from the Redis cache.
    assert outcomes["SERVICE_UNAVAILABLE"] > 0, outcomes
    assert set(outcomes) <= {"ok", "SERVICE_UNAVAILABLE"}, outcomes


async def test_with_postgresql_cut_the_instance_is_not_ready(
    client: GraphQLClient, postgres_proxy: FaultProxy
) -> None:
    postgres_proxy.cut()

    assert await readyz(client) == (
        503,
        {"status": "unavailable", "checks": {"database": "unavailable", "redis": "ok"}},
    )


async def test_when_postgresql_is_back_the_same_instance_serves_again(
    client: GraphQLClient, accounts: list[Account], postgres_proxy: FaultProxy
) -> None:
    postgres_proxy.cut()
    await run_load(client, accounts)
    postgres_proxy.resume()

    # The pool's dead connections are found by the pre-ping and replaced.
    signed_in = await client.login(accounts[0].email)

    assert signed_in.id == accounts[0].id
    assert (await readyz(client))[0] == 200


async def test_with_postgresql_hung_requests_end_with_service_unavailable(
    client: GraphQLClient, accounts: list[Account], postgres_proxy: FaultProxy
) -> None:
    postgres_proxy.blackhole()

    outcomes = await run_load(client, accounts)

    assert outcomes["SERVICE_UNAVAILABLE"] > 0, outcomes
    assert set(outcomes) <= {"ok", "SERVICE_UNAVAILABLE"}, outcomes


async def test_after_postgresql_hung_the_same_instance_serves_again(
    client: GraphQLClient, accounts: list[Account], postgres_proxy: FaultProxy
) -> None:
    postgres_proxy.blackhole()
    await run_load(client, accounts)
    postgres_proxy.resume()

    async def signs_in() -> bool:
        variables = {"input": {"email": accounts[0].email, "password": DEFAULT_PASSWORD}}
        return not (await client.execute(LOGIN, variables)).errors

    await wait_until(signs_in, within=LIVENESS_BOUND, interval=0.5, what="login works again")
