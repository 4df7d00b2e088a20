"""Rate limits, counted in Redis so every instance shares them.

Fixed windows: a key per (rule, subject) counts hits and expires with its window.
If Redis is unreachable the same rules are counted in this process instead, so a
Redis outage weakens the limits (per instance) but never removes them."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import RateLimited
from api.settings import Settings

log = logging.getLogger("glassshop.rate_limit")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int
    window_seconds: int

    @classmethod
    def parse(cls, name: str, spec: str) -> Rule:
        """'30/300' is 30 hits per 300 seconds."""
        count, _, seconds = spec.partition("/")
        rule = cls(name, int(count), int(seconds))
        if rule.limit < 1 or rule.window_seconds < 1:
            raise ValueError(f"rate limit {name}: expected COUNT/SECONDS, got {spec!r}")
        return rule


class LocalCounter:
    """The per-process fallback: the same fixed windows, in memory."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

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


class RateLimiter:
    def __init__(self, redis: Redis, rules: Rules, *, enabled: bool = True) -> None:
        self._redis = redis
        self.rules = rules
        self.enabled = enabled
        self._local = LocalCounter()
        self.rejections = 0

    @staticmethod
    def _key(rule: Rule, subject: str) -> str:
        return f"glassshop:rl:{rule.name}:{subject}"

    async def _hit(self, key: str, window: int) -> tuple[int, float]:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
                pipe.pttl(key)
                count, _, ttl_ms = await pipe.execute()
            return int(count), max(int(ttl_ms), 0) / 1000
        except RedisError:
            return self._local.hit(key, window)

    async def hit(self, rule: Rule, subject: str) -> None:
        """Count one attempt; RATE_LIMITED once the window's limit is exceeded."""
        if not self.enabled:
            return
        count, remaining = await self._hit(self._key(rule, subject), rule.window_seconds)
        if count > rule.limit:
            self.rejections += 1
            raise RateLimited(retry_after=max(1, math.ceil(remaining)))

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

    async def check_lock(self, name: str, subject: str) -> None:
        if not self.enabled:
            return
        key = f"glassshop:lock:{name}:{subject}"
        try:
            ttl_ms = int(await self._redis.pttl(key))
        except RedisError:
            count, remaining = self._local.peek(key)
            ttl_ms = int(remaining * 1000) if count else -2
        if ttl_ms > 0:
            self.rejections += 1
            raise RateLimited(retry_after=max(1, math.ceil(ttl_ms / 1000)))

    async def lock(self, name: str, subject: str, seconds: float) -> None:
        if not self.enabled:
            return
        key = f"glassshop:lock:{name}:{subject}"
        try:
            await self._redis.set(key, "1", px=max(1, int(seconds * 1000)))
        except RedisError:
            self._local.delete(key)
            self._local.hit(key, max(1, math.ceil(seconds)))

    async def unlock(self, name: str, subject: str) -> None:
        key = f"glassshop:lock:{name}:{subject}"
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
    login_free_failures: int
    login_lockout_max_seconds: int

    @classmethod
    def from_settings(cls, s: Settings) -> Rules:
        return cls(
            login_ip=Rule.parse("login-ip", s.rate_login_ip),
            # Counted, not enforced as a window: failures beyond the free ones lock.
            login_failures=Rule("login-failures", 1_000_000, s.login_failure_window_seconds),
            register_ip=Rule.parse("register-ip", s.rate_register_ip),
            password_reset_ip=Rule.parse("reset-ip", s.rate_password_reset_ip),
            password_reset_email=Rule.parse("reset-email", s.rate_password_reset_email),
            verification_user=Rule.parse("verification-user", s.rate_verification_user),
            refresh_session=Rule.parse("refresh-session", s.rate_refresh_session),
            requests_ip=Rule.parse("requests-ip", s.rate_requests_ip),
            login_free_failures=s.login_free_failures,
            login_lockout_max_seconds=s.login_lockout_max_seconds,
        )

    def lockout_seconds(self, failures: int) -> float:
        """0 while failures are within the free ones, then 1, 2, 4, ... up to the maximum."""
        beyond = failures - self.login_free_failures
        if beyond < 0:
            return 0
        return float(min(2**beyond, self.login_lockout_max_seconds))
