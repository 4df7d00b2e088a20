"""Rate limits with the shipped defaults: per IP, per account, per email, per session,
the general per-IP request budget; shared through Redis, per process without it, and
off with RATE_LIMITS=off.

Every test starts an app of its own with the shipped values (the session app's limits
are too high to reach). Client IPs come from the documentation ranges; each request
names its IP through the ASGI transport, as a real client's address would be."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from api.infra.tokens import hash_refresh_token
from api.settings import Settings
from tests.hardening.conftest import SHIPPED_RATE_LIMITS, UNREACHABLE_REDIS, StartApp
from tests.support.accounts import device, scalar
from tests.support.graphql import (
    DEFAULT_PASSWORD,
    LOGIN,
    REGISTER,
    Account,
    GraphQLClient,
    Response,
)

WRONG_PASSWORD = "not the right password at all"
RESET = "mutation Reset($email: String!) { requestPasswordReset(email: $email) }"
VERIFY = "mutation { requestEmailVerification }"
TYPENAME_PARAMS = {"query": "{ __typename }"}


def ip(n: int, network: str = "198.51.100") -> str:
    return f"{network}.{n}"


async def login(app: Starlette, email: str, password: str, *, from_ip: str) -> Response:
    async with device(app, ip=from_ip) as client:
        return await client.execute(LOGIN, {"input": {"email": email, "password": password}})


async def register(app: Starlette, email: str, *, from_ip: str) -> Account:
    async with device(app, ip=from_ip) as client:
        return await client.register(email)


def assert_rate_limited(result: Response, *, at_most: int) -> int:
    """RATE_LIMITED with extensions.retryAfter in (0, at_most], and the same Retry-After."""
    assert result.error_codes == ["RATE_LIMITED"], result.errors
    retry_after = result.errors[0]["extensions"]["retryAfter"]
    assert isinstance(retry_after, int)
    assert 0 < retry_after <= at_most
    assert result.http.headers["retry-after"] == str(retry_after)
    return retry_after


def assert_invalid_credentials(result: Response) -> None:
    assert result.error_codes == ["UNAUTHENTICATED"], result.errors


def lock_key(email: str) -> str:
    return f"glassshop:lock:login:{email}"


async def wait_for_unlock(redis: Redis, *emails: str) -> None:
    """Until every lock has expired (the lock keys are gone)."""
    deadline = time.monotonic() + 10
    while any([await redis.pttl(lock_key(email)) > 0 for email in emails]):
        assert time.monotonic() < deadline, "the lock did not expire in time"
        await asyncio.sleep(0.05)


async def outbox_count(engine: AsyncEngine) -> int:
    count: int = await scalar(engine, "SELECT count(*) FROM outbox_messages")
    return count


def test_the_limits_under_test_are_the_shipped_defaults() -> None:
    defaults = {name: Settings.model_fields[name].default for name in SHIPPED_RATE_LIMITS}

    assert defaults == SHIPPED_RATE_LIMITS


def test_rate_limits_off_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMITS", "off")

    assert Settings().rate_limits is False


# Login per IP (30/300)


async def test_the_31st_login_from_one_ip_in_the_window_is_rate_limited(
    start_app: StartApp,
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(app, "right.password@example.com", from_ip=ip(200))
    attacker = ip(1)

    for n in range(30):
        guess = await login(app, f"guess{n}@example.com", WRONG_PASSWORD, from_ip=attacker)
        assert_invalid_credentials(guess)
    # Refused before the password is looked at: even the right one.
    limited = await login(app, account.email, DEFAULT_PASSWORD, from_ip=attacker)

    assert_rate_limited(limited, at_most=300)
    assert limited.data is None


async def test_a_limited_ip_does_not_limit_other_ips(start_app: StartApp) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(app, "elsewhere@example.com", from_ip=ip(200))
    for n in range(31):
        await login(app, f"guess{n}@example.com", WRONG_PASSWORD, from_ip=ip(1))

    result = await login(app, account.email, DEFAULT_PASSWORD, from_ip=ip(2))

    assert result.ok()["login"]["user"]["id"] == account.id


# Login per account: lockout with exponential backoff

Observation = tuple[tuple[str, ...], Any]


async def observe(app: Starlette, email: str, password: str, from_ip: str) -> Observation:
    """What a client sees of one attempt: the error codes and any retryAfter."""
    result = await login(app, email, password, from_ip=from_ip)
    retry = result.errors[0]["extensions"].get("retryAfter") if result.errors else None
    return tuple(result.error_codes), retry


async def lockstep(
    app: Starlette, emails: tuple[str, ...], password: str, from_ip: str
) -> Observation:
    """The same attempt for every email; they must look the same (no enumeration)."""
    seen = [await observe(app, email, password, from_ip) for email in emails]
    assert all(s == seen[0] for s in seen), dict(zip(emails, seen, strict=True))
    return seen[0]


@pytest.fixture
async def lockout_app(start_app: StartApp) -> Starlette:
    return await start_app(**SHIPPED_RATE_LIMITS)


@pytest.fixture
async def targets(lockout_app: Starlette) -> tuple[str, str]:
    """An existing account's email and an email nobody has."""
    account = await register(lockout_app, "existing.target@example.com", from_ip=ip(200))
    return account.email, "nobody.here@example.com"


async def test_five_failed_logins_from_different_ips_lock_the_account(
    lockout_app: Starlette, targets: tuple[str, str], redis: Redis
) -> None:
    seen = {}
    for email in targets:
        # Each attempt from another IP; the sixth right after the fifth.
        attempts = [await observe(lockout_app, email, WRONG_PASSWORD, ip(n)) for n in range(1, 7)]
        seen[email] = attempts
        assert await redis.pttl(lock_key(email)) > 0

    existing, unknown = targets
    assert seen[existing] == seen[unknown]  # no enumeration
    assert seen[existing] == [(("UNAUTHENTICATED",), None)] * 5 + [(("RATE_LIMITED",), 1)]


async def test_each_further_failure_doubles_the_lock(
    lockout_app: Starlette, targets: tuple[str, str], redis: Redis
) -> None:
    ttls: list[list[int]] = []
    for n in range(1, 8):
        await wait_for_unlock(redis, *targets)
        seen = await lockstep(lockout_app, targets, WRONG_PASSWORD, ip(n))
        assert seen == (("UNAUTHENTICATED",), None), n
        ttls.append([await redis.pttl(lock_key(email)) for email in targets])

    # Failures 1-4: no lock; 5: 1 s; 6: 2 s; 7: 4 s (in milliseconds, as Redis counts).
    for failure, bounds in ((5, (0, 1000)), (6, (1000, 2000)), (7, (2000, 4000))):
        for ttl in ttls[failure - 1]:
            assert bounds[0] < ttl <= bounds[1], (failure, ttls)
    assert ttls[:4] == [[-2, -2]] * 4


async def test_the_lock_grows_to_at_most_the_maximum(start_app: StartApp, redis: Redis) -> None:
    capped = {"login_free_failures": 1, "login_lockout_max_seconds": 1}
    app = await start_app(**{**SHIPPED_RATE_LIMITS, **capped})
    email = "capped@example.com"
    await login(app, email, WRONG_PASSWORD, from_ip=ip(1))  # locks for 1 s
    await wait_for_unlock(redis, email)

    await login(app, email, WRONG_PASSWORD, from_ip=ip(2))

    # The second failure beyond the free ones would lock for 2 s; the maximum is 1.
    assert 0 < await redis.pttl(lock_key(email)) <= 1000


async def test_the_right_password_during_a_lock_is_rate_limited(
    lockout_app: Starlette, targets: tuple[str, str]
) -> None:
    existing, _ = targets
    for n in range(1, 6):
        await login(lockout_app, existing, WRONG_PASSWORD, from_ip=ip(n))

    result = await login(lockout_app, existing, DEFAULT_PASSWORD, from_ip=ip(99))

    assert_rate_limited(result, at_most=1)
    assert result.data is None


async def test_a_successful_login_resets_the_failure_count(
    lockout_app: Starlette, targets: tuple[str, str], redis: Redis
) -> None:
    existing, _ = targets
    for n in range(1, 5):
        await login(lockout_app, existing, WRONG_PASSWORD, from_ip=ip(n))
    (await login(lockout_app, existing, DEFAULT_PASSWORD, from_ip=ip(50))).ok()
    assert await redis.exists(f"glassshop:rl:login-failures:{existing}") == 0

    # Four more failures: nine in all, but only four since the success.
    after = [await login(lockout_app, existing, WRONG_PASSWORD, from_ip=ip(n)) for n in range(5, 9)]
    result = await login(lockout_app, existing, DEFAULT_PASSWORD, from_ip=ip(51))

    for failure in after:
        assert_invalid_credentials(failure)
    assert result.ok()["login"]["user"]["email"] == existing


async def test_the_lockout_counts_the_normalised_email(
    lockout_app: Starlette, targets: tuple[str, str]
) -> None:
    existing, _ = targets
    spellings = [existing.upper(), f"  {existing}", existing.title(), existing, existing.upper()]
    for n, spelling in enumerate(spellings, start=1):
        await login(lockout_app, spelling, WRONG_PASSWORD, from_ip=ip(n))

    result = await login(lockout_app, existing, DEFAULT_PASSWORD, from_ip=ip(99))

    assert_rate_limited(result, at_most=1)


# Registration per IP (10/600)


async def test_the_11th_registration_from_one_ip_is_rate_limited(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    for n in range(10):
        await register(app, f"signup{n}@example.com", from_ip=ip(1))

    async with device(app, ip=ip(1)) as client:
        limited = await client.execute(
            REGISTER, {"input": {"email": "signup10@example.com", "password": DEFAULT_PASSWORD}}
        )
    async with device(app, ip=ip(2)) as client:
        other_ip = await client.register("signup11@example.com")

    assert_rate_limited(limited, at_most=600)
    assert (
        await scalar(engine, "SELECT count(*) FROM users WHERE email = 'signup10@example.com'") == 0
    )
    assert other_ip.email == "signup11@example.com"


# Password reset per IP (5/900) and per email (3/3600)


async def test_the_6th_password_reset_request_from_one_ip_is_rate_limited(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    async with device(app, ip=ip(1)) as client:
        allowed = [await client.execute(RESET, {"email": f"r{n}@example.com"}) for n in range(5)]
        limited = await client.execute(RESET, {"email": "r5@example.com"})

    assert [r.ok() for r in allowed] == [{"requestPasswordReset": True}] * 5
    assert_rate_limited(limited, at_most=900)
    assert await outbox_count(engine) == 5


async def test_the_4th_password_reset_request_for_one_email_is_rate_limited(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    email = "reset.me@example.com"
    results = []
    # From four IPs, the last one spelling the address differently.
    for n, spelling in enumerate([email, email, email, "  Reset.Me@Example.COM"], start=1):
        async with device(app, ip=ip(n)) as client:
            results.append(await client.execute(RESET, {"email": spelling}))

    assert [r.ok() for r in results[:3]] == [{"requestPasswordReset": True}] * 3
    assert_rate_limited(results[3], at_most=3600)
    assert await outbox_count(engine) == 3


# Email verification per user (3/900)


async def test_the_4th_verification_email_request_of_a_user_is_rate_limited(
    start_app: StartApp,
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(app, "verify.me@example.com", from_ip=ip(200))
    results = []
    for n in range(1, 5):
        async with device(app, ip=ip(n)) as client:
            results.append(await client.execute(VERIFY, token=account.access_token))

    assert [r.ok() for r in results[:3]] == [{"requestEmailVerification": True}] * 3
    assert_rate_limited(results[3], at_most=900)


# Refresh per session (30/60)


async def test_the_31st_refresh_of_one_session_is_rate_limited_and_rotates_nothing(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    async with device(app, ip=ip(1)) as client:
        account = await client.register("refresher@example.com")
        token = account.refresh_token
        for _ in range(30):
            token = (await client.refresh(token)).ok()["refresh"]["refreshToken"]
        limited = await client.refresh(token)

    assert_rate_limited(limited, at_most=60)
    rotated = "SELECT rotated_at FROM refresh_tokens WHERE token_hash = :hash"
    assert await scalar(engine, rotated, hash=hash_refresh_token(token)) is None


async def test_a_limited_session_does_not_limit_the_users_other_sessions(
    start_app: StartApp,
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    async with device(app, ip=ip(1)) as client:
        account = await client.register("two.sessions@example.com")
        other = await client.login(account.email)
        token = account.refresh_token
        for _ in range(31):
            result = await client.refresh(token)
            token = result.ok()["refresh"]["refreshToken"] if not result.errors else token
        assert result.error_codes == ["RATE_LIMITED"]

        other_session = await client.refresh(other.refresh_token)

    assert other_session.ok()["refresh"]["user"]["id"] == account.id


# The general budget per IP (600/60)


async def test_the_601st_request_from_one_ip_in_a_minute_is_429_with_a_graphql_body(
    start_app: StartApp,
) -> None:
    app = await start_app(**SHIPPED_RATE_LIMITS)
    async with device(app, ip=ip(1)) as client:
        for _ in range(0, 600, 50):
            replies = await asyncio.gather(
                *(
                    client.http.get(
                        "/graphql",
                        params={"query": "{ __typename }"},
                        headers={"apollo-require-preflight": "true"},
                    )
                    for _ in range(50)
                )
            )
            assert {r.status_code for r in replies} == {200}
        limited = await client.http.post("/graphql", json={"query": "{ __typename }"})

    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("application/json")
    body = limited.json()
    assert set(body) == {"errors"}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 60
    assert limited.headers["retry-after"] == str(error["extensions"]["retryAfter"])


async def test_the_request_budget_is_per_ip_and_only_for_graphql(start_app: StartApp) -> None:
    app = await start_app(**{**SHIPPED_RATE_LIMITS, "rate_requests_ip": "5/60"})
    async with device(app, ip=ip(1)) as client:
        for _ in range(5):
            await client.execute("{ __typename }")
        limited = await client.http.post("/graphql", json={"query": "{ __typename }"})
        health = await client.http.get("/healthz")
        preflight = await client.http.options("/graphql")
    async with device(app, ip=ip(2)) as client:
        other_ip = await client.execute("{ __typename }")

    assert limited.status_code == 429
    assert health.status_code == 200
    assert preflight.status_code != 429
    assert other_ip.ok() == {"__typename": "Query"}


async def test_x_forwarded_for_from_an_untrusted_client_does_not_change_its_budget(
    start_app: StartApp,
) -> None:
    app = await start_app(**{**SHIPPED_RATE_LIMITS, "rate_requests_ip": "2/60"})
    async with device(app, ip=ip(1)) as client:
        replies = [
            await client.http.post(
                "/graphql",
                json={"query": "{ __typename }"},
                headers={"x-forwarded-for": ip(n, "192.0.2")},
            )
            for n in range(3)
        ]

    assert [r.status_code for r in replies] == [200, 200, 429]


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    start_app: StartApp,
) -> None:
    app = await start_app(**{**SHIPPED_RATE_LIMITS, "rate_requests_ip": "2/60"})

    async def forwarded(proxy: GraphQLClient, n: int) -> int:
        reply = await proxy.http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"x-forwarded-for": ip(n)}
        )
        return reply.status_code

    async with device(app, ip="127.0.0.1") as proxy:  # a trusted proxy by default
        first = [await forwarded(proxy, 1) for _ in range(3)]
        second = [await forwarded(proxy, 2) for _ in range(2)]

    assert first == [200, 200, 429]
    assert second == [200, 200]


async def test_a_429_to_an_allowed_origin_can_be_read_by_its_page(start_app: StartApp) -> None:
    origin = "https://shop.glassshop.test"
    app = await start_app(
        **{**SHIPPED_RATE_LIMITS, "rate_requests_ip": "1/60"}, cors_origins=[origin]
    )
    async with device(app, ip=ip(1)) as client:
        replies = [
            await client.http.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"origin": origin}
            )
            for _ in range(2)
        ]

    assert replies[1].status_code == 429
    assert replies[1].headers.get("access-control-allow-origin") == origin


# Shared by instances, per process without Redis, off when disabled


async def test_counters_are_shared_by_two_instances_on_the_same_redis(
    start_app: StartApp,
) -> None:
    first = await start_app(**SHIPPED_RATE_LIMITS)
    second = await start_app(**SHIPPED_RATE_LIMITS)
    on_first = [
        await login(first, f"a{n}@example.com", WRONG_PASSWORD, from_ip=ip(1)) for n in range(15)
    ]
    on_second = [
        await login(second, f"b{n}@example.com", WRONG_PASSWORD, from_ip=ip(1)) for n in range(16)
    ]

    for result in on_first + on_second[:15]:
        assert_invalid_credentials(result)
    assert_rate_limited(on_second[15], at_most=300)


async def test_with_redis_unreachable_the_login_ip_limit_still_applies_per_process(
    start_app: StartApp,
) -> None:
    app = await start_app(
        **SHIPPED_RATE_LIMITS, redis_url=UNREACHABLE_REDIS, redis_socket_timeout_seconds=0.5
    )
    results = [
        await login(app, f"g{n}@example.com", WRONG_PASSWORD, from_ip=ip(1)) for n in range(31)
    ]

    for result in results[:30]:
        assert_invalid_credentials(result)
    assert_rate_limited(results[30], at_most=300)


async def test_with_redis_unreachable_the_account_lockout_still_applies_per_process(
    start_app: StartApp,
) -> None:
    healthy = await start_app(**SHIPPED_RATE_LIMITS)
    account = await register(healthy, "no.redis.lock@example.com", from_ip=ip(200))
    app = await start_app(
        **SHIPPED_RATE_LIMITS, redis_url=UNREACHABLE_REDIS, redis_socket_timeout_seconds=0.5
    )
    for n in range(1, 6):
        assert_invalid_credentials(await login(app, account.email, WRONG_PASSWORD, from_ip=ip(n)))

    result = await login(app, account.email, DEFAULT_PASSWORD, from_ip=ip(99))

    assert_rate_limited(result, at_most=1)


async def test_with_redis_unreachable_the_request_budget_still_applies_per_process(
    start_app: StartApp,
) -> None:
    app = await start_app(
        **{**SHIPPED_RATE_LIMITS, "rate_requests_ip": "5/60"},
        redis_url=UNREACHABLE_REDIS,
        redis_socket_timeout_seconds=0.5,
    )
    async with device(app, ip=ip(1)) as client:
        allowed = [await client.execute("{ __typename }") for _ in range(5)]
        limited = await client.http.post("/graphql", json={"query": "{ __typename }"})

    assert [r.status for r in allowed] == [200] * 5
    assert limited.status_code == 429


async def test_rate_limits_off_disables_them(start_app: StartApp) -> None:
    app = await start_app(
        **{**SHIPPED_RATE_LIMITS, "rate_limits": False, "rate_requests_ip": "5/60"}
    )
    account = await register(app, "unlimited@example.com", from_ip=ip(200))
    guesses = [await login(app, account.email, WRONG_PASSWORD, from_ip=ip(1)) for _ in range(31)]
    result = await login(app, account.email, DEFAULT_PASSWORD, from_ip=ip(1))
    async with device(app, ip=ip(2)) as client:
        requests = [await client.execute("{ __typename }") for _ in range(6)]

    for guess in guesses:
        assert_invalid_credentials(guess)
    assert result.ok()["login"]["user"]["id"] == account.id
    assert [r.status for r in requests] == [200] * 6
