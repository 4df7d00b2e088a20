"""Rate limits, counted in Redis so every instance shares them.

Fixed windows: a key per (rule, subject) counts hits and expires with its window.
If Redis is unreachable the same rules are counted in this process instead, so a
Redis outage weakens the limits (per instance) but never removes them.

Limits per client IP count an IPv6 client by its /64 network, the block one customer
usually holds (it can pick any address in it), and an IPv4 client by its address."""

from __future__ import annotations

import ipaddress
import logging
import math
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import RateLimited
from api.settings import Settings

log = logging.getLogger("glassshop.rate_limit")

# How long a reserved login attempt counts as in evaluation if it is never released (its
# process died): longer than any evaluation takes (statements time out after 15 s).
ATTEMPT_TTL_SECONDS = 60

# Admits an attempt at an account or says how many milliseconds to wait, atomically, so
# parallel guesses cannot all pass the check before any of them is counted. An attempt
# waits while the account is locked, and while others are in evaluation that could use
# up its free failures; beyond the free failures one attempt is evaluated at a time.
# KEYS: lock, failures, attempts in evaluation (a sorted set: id -> expiry in ms).
# ARGV: free failures, attempt TTL in ms, attempt id, busy wait in ms.
# LocalCounter.admit is the same rule, in memory.
_ADMIT = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local locked = redis.call('PTTL', KEYS[1])
if locked > 0 then return locked end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local in_flight = redis.call('ZCARD', KEYS[3])
local failures = tonumber(redis.call('GET', KEYS[2]) or '0')
if in_flight > 0 and failures + in_flight >= tonumber(ARGV[1]) then return tonumber(ARGV[4]) end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return 0
"""
# The wait while other attempts are in evaluation: about one password verification.
_BUSY_SECONDS = 1.0

IPV6_CLIENT_PREFIX = 64
_IPV6_NETWORK_MASK = ((1 << IPV6_CLIENT_PREFIX) - 1) << (128 - IPV6_CLIENT_PREFIX)


def client_ip_key(host: str | None) -> str:
    """The subject a per-IP limit counts: an IPv4 address, an IPv6 /64 network (an
    IPv4-mapped IPv6 address is its IPv4 address), or the host as given when it is no
    IP address at all (a test client's name, "unknown")."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        # int() drops a zone index (fe80::1%eth0): the network is the same.
        network = ipaddress.IPv6Address(int(address) & _IPV6_NETWORK_MASK)
        return f"{network}/{IPV6_CLIENT_PREFIX}"
    return str(address)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int
    window_seconds: int
    # The subject is a client IP address, counted by client_ip_key.
    per_ip: bool = False

    @classmethod
    def parse(cls, name: str, spec: str, *, per_ip: bool = False) -> Rule:
        """'30/300' is 30 hits per 300 seconds."""
        count, _, seconds = spec.partition("/")
        rule = cls(name, int(count), int(seconds), per_ip)
        if rule.limit < 1 or rule.window_seconds < 1:
            raise ValueError(f"rate limit {name}: expected COUNT/SECONDS, got {spec!r}")
        return rule


class LocalCounter:
    """The per-process fallback: the same fixed windows, in memory."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        # Attempts in evaluation: key -> attempt id -> expiry (monotonic).
        self._attempts: dict[str, dict[str, float]] = {}

    def hit(self, key: str, window: int, amount: int = 1) -> tuple[int, float]:
        now = time.monotonic()
        expires, count = self._windows.get(key, (0.0, 0))
        if expires <= now:
            expires, count = now + window, 0
        count += amount
        self._windows[key] = (expires, count)
        if len(self._windows) > 100_000:  # bound memory under a flood of subjects
            self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
        return count, expires - now

    def peek(self, key: str) -> tuple[int, float]:
        now = time.monotonic()
        expires, count = self._windows.get(key, (0.0, 0))
        return (count, expires - now) if expires > now else (0, 0.0)

    def delete(self, key: str) -> None:
        self._windows.pop(key, None)

    def admit(self, keys: AttemptKeys, attempt: str, *, free_failures: int) -> float:
        """The _ADMIT script, in memory: 0 with the attempt reserved, else seconds to wait.
        Nothing here awaits, so under asyncio the check and the reservation are atomic."""
        locked, remaining = self.peek(keys.lock)
        if locked:
            return remaining
        now = time.monotonic()
        live = {a: t for a, t in self._attempts.get(keys.attempts, {}).items() if t > now}
        failures, _ = self.peek(keys.failures)
        if live and failures + len(live) >= free_failures:
            return _BUSY_SECONDS
        live[attempt] = now + ATTEMPT_TTL_SECONDS
        self._attempts[keys.attempts] = live
        return 0.0

    def release(self, key: str, attempt: str) -> None:
        live = self._attempts.get(key, {})
        live.pop(attempt, None)
        if not live:
            self._attempts.pop(key, None)


@dataclass(frozen=True, slots=True)
class AttemptKeys:
    """The keys of one account's lockout: its lock, failure count, attempts in evaluation."""

    lock: str
    failures: str
    attempts: str


@dataclass(frozen=True, slots=True)
class _Reservation:
    key: str
    attempt: str
    # Reserved in this process (Redis was unreachable): released here too.
    local: bool


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """One admitted login attempt at an account; say how it ended before it is released."""

    limiter: RateLimiter
    account: str

    async def failed(self) -> None:
        """Count the failure; beyond the free ones it locks the account, doubling."""
        rules = self.limiter.rules
        failures = await self.limiter.add(rules.login_failures, self.account)
        delay = rules.lockout_seconds(failures)
        if delay:
            await self.limiter.lock("login", self.account, delay)

    async def succeeded(self) -> None:
        await self.limiter.reset(self.limiter.rules.login_failures, self.account)


class RateLimiter:
    def __init__(self, redis: Redis, rules: Rules, *, enabled: bool = True) -> None:
        self._redis = redis
        self.rules = rules
        self.enabled = enabled
        self._local = LocalCounter()
        self._admit = redis.register_script(_ADMIT)
        self.rejections = 0

    @staticmethod
    def _key(rule: Rule, subject: str) -> str:
        if rule.per_ip:
            subject = client_ip_key(subject)
        return f"glassshop:rl:{rule.name}:{subject}"

    async def _hit(self, key: str, window: int, amount: int = 1) -> tuple[int, float]:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key, amount)
                pipe.expire(key, window, nx=True)
                pipe.pttl(key)
                count, _, ttl_ms = await pipe.execute()
            return int(count), max(int(ttl_ms), 0) / 1000
        except RedisError:
            return self._local.hit(key, window, amount)

    async def hit(self, rule: Rule, subject: str, amount: int = 1) -> None:
        """Count `amount` attempts; RATE_LIMITED once the window's limit is exceeded."""
        if not self.enabled or amount < 1:
            return
        key = self._key(rule, subject)
        count, remaining = await self._hit(key, rule.window_seconds, amount)
        if count > rule.limit:
            self.rejections += 1
            raise RateLimited(retry_after=max(1, math.ceil(remaining)))

    async def spend_request_budget(self, client_ip: str | None, amount: int = 1) -> None:
        """The per-IP request budget (RATE_LIMIT_REQUESTS_IP): one per HTTP request, per
        operation of a batch and per websocket connection and operation."""
        await self.hit(self.rules.requests_ip, client_ip or "unknown", amount)

    async def add(self, rule: Rule, subject: str) -> int:
        """Count one event without enforcing anything; returns the window's count."""
        if not self.enabled:
            return 0
        count, _ = await self._hit(self._key(rule, subject), rule.window_seconds)
        return count

    async def reset(self, rule: Rule, subject: str) -> None:
        key = self._key(rule, subject)
        self._local.delete(key)
        try:
            await self._redis.delete(key)
        except RedisError:
            log.warning("could not reset rate limit %s", rule.name)

    # Account lockout with exponential backoff (OWASP: count per account, not only per
    # IP, so a distributed guesser is slowed too).

    @asynccontextmanager
    async def login_attempt(self, account: str) -> AsyncIterator[LoginAttempt]:
        """Admit one login attempt at `account` (RATE_LIMITED if it must wait), reserved
        until the block ends: the block verifies the password and reports the outcome.
        Reserving before verifying is what stops parallel guesses from all being
        evaluated before the first failure is counted."""
        reservation = await self._reserve(self._attempt_keys("login", account))
        try:
            yield LoginAttempt(self, account)
        finally:
            if reservation is not None:
                await self._release(reservation)

    def _attempt_keys(self, name: str, subject: str) -> AttemptKeys:
        return AttemptKeys(
            lock=self._lock_key(name, subject),
            failures=self._key(self.rules.login_failures, subject),
            attempts=f"glassshop:attempts:{name}:{subject}",
        )

    async def _reserve(self, keys: AttemptKeys) -> _Reservation | None:
        if not self.enabled:
            return None
        attempt, free = secrets.token_hex(8), self.rules.login_free_failures
        try:
            ttl_ms, busy_ms = ATTEMPT_TTL_SECONDS * 1000, int(_BUSY_SECONDS * 1000)
            args: list[int | str] = [free, ttl_ms, attempt, busy_ms]
            wait = int(await self._admit(keys=[keys.lock, keys.failures, keys.attempts], args=args))
            wait_seconds, local = wait / 1000, False
        except RedisError:
            wait_seconds = self._local.admit(keys, attempt, free_failures=free)
            local = True
        if wait_seconds > 0:
            self.rejections += 1
            raise RateLimited(retry_after=max(1, math.ceil(wait_seconds)))
        return _Reservation(keys.attempts, attempt, local)

    async def _release(self, reservation: _Reservation) -> None:
        if reservation.local:
            self._local.release(reservation.key, reservation.attempt)
            return
        try:
            await self._redis.zrem(reservation.key, reservation.attempt)
        except RedisError:
            # It expires with ATTEMPT_TTL_SECONDS; until then it holds one place.
            log.warning("could not release a login attempt")

    @staticmethod
    def _lock_key(name: str, subject: str) -> str:
        return f"glassshop:lock:{name}:{subject}"

    async def lock(self, name: str, subject: str, seconds: float) -> None:
        if not self.enabled:
            return
        key = self._lock_key(name, subject)
        try:
            await self._redis.set(key, "1", px=max(1, int(seconds * 1000)))
        except RedisError:
            self._local.delete(key)
            self._local.hit(key, max(1, math.ceil(seconds)))

    async def unlock(self, name: str, subject: str) -> None:
        key = self._lock_key(name, subject)
        self._local.delete(key)
        try:
            await self._redis.delete(key)
        except RedisError:
            log.warning("could not clear lock %s", name)


@dataclass(frozen=True, slots=True)
class Rules:
    login_ip: Rule
    login_failures: Rule
    register_ip: Rule
    password_reset_ip: Rule
    password_reset_email: Rule
    verification_user: Rule
    refresh_session: Rule
    requests_ip: Rule
    apq_register_ip: Rule
    login_free_failures: int
    login_lockout_max_seconds: int

    @classmethod
    def from_settings(cls, s: Settings) -> Rules:
        return cls(
            login_ip=Rule.parse("login-ip", s.rate_login_ip, per_ip=True),
            # Counted, not enforced as a window: failures beyond the free ones lock.
            login_failures=Rule("login-failures", 1_000_000, s.login_failure_window_seconds),
            register_ip=Rule.parse("register-ip", s.rate_register_ip, per_ip=True),
            password_reset_ip=Rule.parse("reset-ip", s.rate_password_reset_ip, per_ip=True),
            password_reset_email=Rule.parse("reset-email", s.rate_password_reset_email),
            verification_user=Rule.parse("verification-user", s.rate_verification_user),
            refresh_session=Rule.parse("refresh-session", s.rate_refresh_session),
            requests_ip=Rule.parse("requests-ip", s.rate_requests_ip, per_ip=True),
            apq_register_ip=Rule.parse("apq-register-ip", s.rate_apq_register_ip, per_ip=True),
            login_free_failures=s.login_free_failures,
            login_lockout_max_seconds=s.login_lockout_max_seconds,
        )

    def lockout_seconds(self, failures: int) -> float:
        """0 while failures are within the free ones, then 1, 2, 4, ... up to the maximum."""
        beyond = failures - self.login_free_failures
        if beyond < 0:
            return 0
        return float(min(2**beyond, self.login_lockout_max_seconds))
