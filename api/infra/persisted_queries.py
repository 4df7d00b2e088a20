"""Automatic persisted queries (Apollo's APQ), stored in Redis for every instance.

A client first sends only `extensions.persistedQuery.sha256Hash`; when the hash is
unknown it is told PERSISTED_QUERY_NOT_FOUND and sends the query with the hash,
which is checked and stored. Queries can then travel as short GET requests."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import AppError, BadUserInput

log = logging.getLogger("glassshop.apq")


class PersistedQueryNotFound(AppError):
    code = "PERSISTED_QUERY_NOT_FOUND"
    default_message = "PersistedQueryNotFound"


class PersistedQueries:
    def __init__(self, redis: Redis, *, ttl_seconds: int, max_chars: int) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._max_chars = max_chars

    @staticmethod
    def _key(sha256: str) -> str:
        return f"glassshop:apq:{sha256}"

    async def resolve(self, query: str | None, extension: Any) -> str | None:
        """The query to run for a request carrying `extensions.persistedQuery`."""
        if not isinstance(extension, dict):
            raise BadUserInput({"persistedQuery": ["Must be an object."]})
        if extension.get("version") != 1:
            raise BadUserInput({"persistedQuery": ["Only version 1 is supported."]})
        sha256 = extension.get("sha256Hash")
        if not isinstance(sha256, str) or len(sha256) != 64:
            raise BadUserInput({"persistedQuery": ["sha256Hash must be 64 hex digits."]})
        sha256 = sha256.lower()
        if query is None:
            try:
                stored = await self._redis.get(self._key(sha256))
            except RedisError:
                stored = None  # the client resends the full query: nothing is lost
            if stored is None:
                raise PersistedQueryNotFound()
            return stored.decode() if isinstance(stored, bytes) else str(stored)
        if hashlib.sha256(query.encode()).hexdigest() != sha256:
            raise BadUserInput({"persistedQuery": ["sha256Hash does not match the query."]})
        if len(query) <= self._max_chars:
            try:
                await self._redis.set(self._key(sha256), query, ex=self._ttl)
            except RedisError:
                log.warning("could not store a persisted query")
        return query
