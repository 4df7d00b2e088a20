"""The account lockout under parallel guesses: an attempt is admitted before its password
is verified, so guesses sent at once cannot all be evaluated before the first failure is
counted. At most the free failures' worth are in evaluation at once; beyond them, one at
a time; the rest are refused with RATE_LIMITED without being evaluated.

"Evaluated" is what the audit log shows: every verified attempt leaves a LOGIN or a
LOGIN_FAILED row, and a refused one leaves none."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.hardening.conftest import SHIPPED_RATE_LIMITS, UNREACHABLE_REDIS, StartApp
from tests.hardening.test_rate_limits import (
    WRONG_PASSWORD,
    assert_invalid_credentials,
    assert_rate_limited,
    ip,
    login,
    register,
    wait_for_unlock,
)
from tests.support.accounts import audit_rows, scalar
from tests.support.graphql import DEFAULT_PASSWORD, Response
from tests.support.worker import wait_until

FREE_FAILURES: int = SHIPPED_RATE_LIMITS["login_free_failures"]
WRONG_GUESSES = 24


async def evaluated(engine: AsyncEngine) -> int:
    """How many login attempts had their password verified."""
    return len(await audit_rows(engine, "LOGIN_FAILED")) + len(await audit_rows(engine, "LOGIN"))


async def burst(app: Starlette, email: str, passwords: list[str]) -> list[Response]:
    """One login per password, all sent at once, each from an IP of its own."""
    return await asyncio.gather(
        *(login(app, email, password, from_ip=ip(n)) for n, password in enumerate(passwords, 1))
    )


def guesses_with_the_right_one_last() -> list[str]:
    return [f"{WRONG_PASSWORD} {n}" for n in range(WRONG_GUESSES)] + [DEFAULT_PASSWORD]


def assert_refused_unless_evaluated(
    results: list[Response], evaluated_count: int, *, retry_at_most: int = 1
) -> None:
    """The evaluated attempts answered UNAUTHENTICATED or signed in; the rest were
    refused with RATE_LIMITED and a short retryAfter."""
    answered = 0
    for result in results:
        if result.error_codes == ["RATE_LIMITED"]:
            assert_rate_limited(result, at_most=retry_at_most)
        else:
            assert result.error_codes in ([], ["UNAUTHENTICATED"]), result.errors
            answered += 1
    assert answered == evaluated_count


async def sessions_waiting_for_users(engine: AsyncEngine) -> int:
    count: int = await scalar(
        engine,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query ILIKE '%FROM users%'",
    )
    return count


async def test_parallel_guesses_beyond_the_free_failures_are_refused_unevaluated(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(app, "parallel.target@example.com", from_ip=ip(200))

    results = await burst(app, account.email, guesses_with_the_right_one_last())

    count = await evaluated(engine)
    assert count <= FREE_FAILURES
    assert_refused_unless_evaluated(results, count)


async def test_the_right_password_is_refused_while_the_free_failures_are_being_evaluated(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(app, "held.target@example.com", from_ip=ip(200))
    # Holding the users table keeps the guesses in evaluation: each has been admitted
    # and waits for its SELECT of the account, before its password is verified.
    async with engine.connect() as holder:
        await holder.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
        guesses = [
            asyncio.create_task(login(app, account.email, WRONG_PASSWORD, from_ip=ip(n)))
            for n in range(1, FREE_FAILURES + 1)
        ]

        async def all_guesses_waiting() -> bool:
            return await sessions_waiting_for_users(engine) == FREE_FAILURES

        await wait_until(all_guesses_waiting, what="the guesses waiting for the users table")
        right = asyncio.create_task(login(app, account.email, DEFAULT_PASSWORD, from_ip=ip(99)))

        async def right_one_answered_or_waiting() -> bool:
            return right.done() or await sessions_waiting_for_users(engine) > FREE_FAILURES

        await wait_until(right_one_answered_or_waiting, what="the right password's answer")
        await holder.rollback()

    assert_rate_limited(await right, at_most=1)
    for guess in await asyncio.gather(*guesses):
        assert_invalid_credentials(guess)
    assert await audit_rows(engine, "LOGIN") == []


async def test_beyond_the_free_failures_parallel_guesses_are_evaluated_one_at_a_time(
    start_app: StartApp, engine: AsyncEngine, redis: Redis
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(app, "one.at.a.time@example.com", from_ip=ip(200))
    for n in range(1, FREE_FAILURES + 1):
        assert_invalid_credentials(await login(app, account.email, WRONG_PASSWORD, from_ip=ip(n)))
    await wait_for_unlock(redis, account.email)  # the 1 s lock after the fifth failure

    results = await burst(app, account.email, guesses_with_the_right_one_last())

    assert await evaluated(engine) == FREE_FAILURES + 1
    # Refused while the one was in evaluation (1 s), or by the 2 s lock its failure set.
    assert_refused_unless_evaluated(results, 1, retry_at_most=2)


async def test_a_finished_login_gives_its_place_back(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(app, "place.back@example.com", from_ip=ip(200))
    (await login(app, account.email, DEFAULT_PASSWORD, from_ip=ip(100))).ok()

    results = await burst(app, account.email, [WRONG_PASSWORD] * FREE_FAILURES)

    for result in results:
        assert_invalid_credentials(result)
    assert await evaluated(engine) == 1 + FREE_FAILURES


async def test_with_redis_unreachable_parallel_guesses_are_still_admitted_per_process(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    healthy = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(healthy, "no.redis.burst@example.com", from_ip=ip(200))
    app = await start_app(
        **SHIPPED_RATE_LIMITS, redis_url=UNREACHABLE_REDIS, redis_socket_timeout_seconds=0.5
    )

    results = await burst(app, account.email, guesses_with_the_right_one_last())

    count = await evaluated(engine)
    assert count <= FREE_FAILURES
    assert_refused_unless_evaluated(results, count)
