"""Automatic persisted queries (Apollo's APQ), stored in Redis for every instance.

A client first sends only `extensions.persistedQuery.sha256Hash`; when the hash is
unknown it is told PERSISTED_QUERY_NOT_FOUND and sends the query with the hash. The
hash is checked, the query runs, and only a document that parsed and validated (the
view says so after running it) is stored. Storing is not a right of anyone who can
send a request: new hashes are counted per client IP (RATE_LIMIT_APQ_IP) and the store
holds at most APQ_MAX_ENTRIES documents, the oldest registrations leaving first. A
client refused a registration loses nothing: its query ran, and it keeps sending it in
full until it can be stored."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import AppError, BadUserInput, RateLimited
from api.infra.rate_limit import RateLimiter, Rule

log = logging.getLogger("glassshop.apq")

_PREFIX = "glassshop:apq:"
# Every stored hash, scored by when it was registered (Redis's clock, in µs): what
# bounds the store.
_INDEX = "glassshop:apq-index"
# Store one document, forget registrations older than the TTL, and evict the oldest
# beyond the bound: one script, so concurrent registrations cannot overshoot it.
_STORE = """
local prefix, sha, query = ARGV[1], ARGV[2], ARGV[3]
local ttl, bound = tonumber(ARGV[4]), tonumber(ARGV[5])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
redis.call('SET', prefix .. sha, query, 'EX', ttl)
redis.call('ZADD', KEYS[1], now, sha)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl * 1000000)
local over = redis.call('ZCARD', KEYS[1]) - bound
if over > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #oldest, 2 do redis.call('DEL', prefix .. oldest[i]) end
end
return over
"""


class PersistedQueryNotFound(AppError):
    code = "PERSISTED_QUERY_NOT_FOUND"
    default_message = "PersistedQueryNotFound"


@dataclass(frozen=True, slots=True)
class Registration:
    """A query sent with its (matching) hash: to be stored once it has run valid."""

    sha256: str
    query: str


@dataclass(frozen=True, slots=True)
class Resolved:
    query: str | None
    registration: Registration | None = None


class PersistedQueries:
    def __init__(
        self,
        redis: Redis,
        limiter: RateLimiter,
        registrations_per_ip: Rule,
        *,
        ttl_seconds: int,
        max_chars: int,
        max_entries: int,
    ) -> None:
        self._redis = redis
        self._limiter = limiter
        self._per_ip = registrations_per_ip
        self._ttl = ttl_seconds
        self._max_chars = max_chars
        self._max_entries = max_entries
        self._store = redis.register_script(_STORE)

    @staticmethod
    def _key(sha256: str) -> str:
        return _PREFIX + sha256

    async def resolve(
        self, query: str | None, extension: Any, earlier: Mapping[str, str] | None = None
    ) -> Resolved:
        """The query to run for a request carrying `extensions.persistedQuery`;
        `earlier`: the documents registered by the batch's earlier operations, which
        are stored only once they have run."""
        if not isinstance(extension, dict):
            raise BadUserInput({"persistedQuery": ["Must be an object."]})
        if extension.get("version") != 1:
            raise BadUserInput({"persistedQuery": ["Only version 1 is supported."]})
        sha256 = extension.get("sha256Hash")
        if not isinstance(sha256, str) or len(sha256) != 64:
            raise BadUserInput({"persistedQuery": ["sha256Hash must be 64 hex digits."]})
        sha256 = sha256.lower()
        if query is None and earlier and sha256 in earlier:
            return Resolved(earlier[sha256])
        if query is None:
            try:
                stored = await self._redis.get(self._key(sha256))
            except RedisError:
                stored = None  # the client resends the full query: nothing is lost
            if stored is None:
                raise PersistedQueryNotFound()
            return Resolved(stored.decode() if isinstance(stored, bytes) else str(stored))
        if hashlib.sha256(query.encode()).hexdigest() != sha256:
            raise BadUserInput({"persistedQuery": ["sha256Hash does not match the query."]})
        if len(query) > self._max_chars:
            return Resolved(query)
        return Resolved(query, Registration(sha256, query))

    async def register(self, registration: Registration, client_ip: str | None) -> bool:
        """Store a document that has just run valid; False when it was not stored (known
        already, this client's registrations spent, or Redis unavailable)."""
        key = self._key(registration.sha256)
        try:
            if await self._redis.exists(key):
                return False
            await self._limiter.hit(self._per_ip, client_ip or "unknown")
            await self._store(
                keys=[_INDEX],
                args=[
                    _PREFIX,
                    registration.sha256,
                    registration.query,
                    self._ttl,
                    self._max_entries,
                ],
            )
        except RateLimited:
            return False
        except RedisError:
            log.warning("could not store a persisted query")
            return False
        return True
