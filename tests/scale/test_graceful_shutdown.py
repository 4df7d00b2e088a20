"""SIGTERM, as a container runtime sends it, while requests are in flight: the API process
stops accepting connections, finishes every request it has, shuts down its lifespan and
exits within uvicorn's graceful period."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from tests.support.api_process import ApiProcess, api_environment, running_api
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, REGISTER

IN_FLIGHT = 6
# Hashing made slow and one at a time, so that the logins are still queued when the
# signal comes: each takes a few hundred milliseconds, all of them a few seconds.
SLOW_HASHING = {
    "ARGON2_TIME_COST": "8",
    "ARGON2_MEMORY_COST_KIB": str(64 * 1024),
    "PASSWORD_HASH_WORKERS": "1",
    # Six parallel logins to one account are more than the lockout lets be evaluated at
    # once (tests/hardening/test_login_lockout_races.py): not what this test is about.
    "LOGIN_FREE_FAILURES": "100",
}
EXIT_WITHIN = 40.0  # uvicorn's 30 s graceful period (api/cli.py), and some


StartApi = Callable[[dict[str, str]], AbstractAsyncContextManager[ApiProcess]]


@pytest.fixture
def start_api(database_url: str, redis_url: str, jwt_secret: str, tmp_path: Path) -> StartApi:
    """A `glassshop serve` process with these settings on top of the suite's."""

    def start(settings: dict[str, str]) -> AbstractAsyncContextManager[ApiProcess]:
        env = api_environment(database_url, redis_url, jwt_secret, **settings)
        return running_api(tmp_path / "api.log", env)

    return start


@pytest.fixture
async def api(start_api: StartApi) -> AsyncIterator[ApiProcess]:
    async with start_api(SLOW_HASHING) as process:
        yield process


async def test_sigterm_finishes_the_requests_in_flight_and_refuses_new_connections(
    api: ApiProcess,
) -> None:
    credentials = {"email": "ada@example.com", "password": DEFAULT_PASSWORD}
    async with httpx.AsyncClient(base_url=api.base_url, timeout=60) as http:
        registered = await http.post(
            "/graphql", json={"query": REGISTER, "variables": {"input": credentials}}
        )
        assert "errors" not in registered.json(), registered.json()

    finished_at: list[float] = []

    async def login() -> httpx.Response:
        # A connection of its own per request, opened before the signal.
        async with httpx.AsyncClient(base_url=api.base_url, timeout=60) as http:
            reply = await http.post(
                "/graphql", json={"query": LOGIN, "variables": {"input": credentials}}
            )
            finished_at.append(time.monotonic())
            return reply

    logins = [asyncio.create_task(login()) for _ in range(IN_FLIGHT)]
    await asyncio.sleep(0.3)  # every request sent, most waiting for the hashing thread
    api.terminate()
    signalled_at = time.monotonic()

    await asyncio.sleep(0.5)  # the listener closes at once
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=api.base_url, timeout=5) as late:
            await late.get("/healthz")
    replies = await asyncio.wait_for(asyncio.gather(*logins), EXIT_WITHIN)
    code = await asyncio.to_thread(api.wait, EXIT_WITHIN)

    assert [reply.status_code for reply in replies] == [200] * IN_FLIGHT
    for reply in replies:
        body = reply.json()
        assert "errors" not in body, body
        assert body["data"]["login"]["accessToken"]
    # Hashing one at a time takes seconds: most were still in flight at the signal.
    assert sum(at > signalled_at for at in finished_at) >= IN_FLIGHT // 2, finished_at
    # uvicorn exits by re-raising the signal it handled, once shutdown is complete.
    assert code in (0, -signal.SIGTERM), api.log()
    assert "Application shutdown complete" in api.log()


async def test_ctrl_c_shuts_down_completely_without_a_traceback(api: ApiProcess) -> None:
    api.terminate(signal.SIGINT)
    code = await asyncio.to_thread(api.wait, EXIT_WITHIN)

    assert code in (0, -signal.SIGINT), api.log()
    assert "Application shutdown complete" in api.log()
    assert "Traceback" not in api.log()


# A CPU-heavy request holds the event loop; the connections opened meanwhile are
# accepted only once it is free again, just as the shutdown begins.
HEAVY_FIELDS = 40_000
HEAVY_LIMITS = {
    "MAX_ALIASES": str(HEAVY_FIELDS),
    "MAX_TOKENS": str(HEAVY_FIELDS * 4),
    "MAX_DOCUMENT_CHARS": str(HEAVY_FIELDS * 20),
    "MAX_BODY_BYTES": str(HEAVY_FIELDS * 40),
    "MAX_QUERY_COST": str(HEAVY_FIELDS * 2),
}
QUEUED = 8


@pytest.fixture
async def heavy_api(start_api: StartApi) -> AsyncIterator[ApiProcess]:
    async with start_api(HEAVY_LIMITS) as process:
        yield process


async def test_sigterm_answers_the_requests_queued_behind_a_cpu_heavy_one(
    heavy_api: ApiProcess,
) -> None:
    heavy = "{ " + " ".join(f"a{n}: __typename" for n in range(HEAVY_FIELDS)) + " }"

    async def post(query: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=heavy_api.base_url, timeout=60) as http:
            return await http.post("/graphql", json={"query": query})

    running = asyncio.create_task(post(heavy))
    await asyncio.sleep(0.5)  # the heavy document is being parsed: the loop is busy
    queued = [asyncio.create_task(post("{ __typename }")) for _ in range(QUEUED)]
    await asyncio.sleep(0.2)  # connected (the kernel accepted them), requests sent
    heavy_api.terminate()

    answers = await asyncio.wait_for(asyncio.gather(*queued, return_exceptions=True), 60)
    await asyncio.wait_for(running, 60)
    code = await asyncio.to_thread(heavy_api.wait, EXIT_WITHIN)

    assert [getattr(a, "status_code", repr(a)) for a in answers] == [200] * QUEUED
    assert code in (0, -signal.SIGTERM), heavy_api.log()
