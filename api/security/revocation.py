"""Revoked sessions, shared by every API instance through Redis.

An access token names its session (the `sid` claim). Ending a session marks it
revoked in Redis for as long as an access token can live, so its access tokens
stop working at once on every instance rather than at expiry."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import AuthSession

log = logging.getLogger("glassshop.revocation")

_KEY = "glassshop:revoked-session:{}"


class SessionRevocations:
    def __init__(
        self, redis: Redis, sessions: async_sessionmaker[AsyncSession], *, ttl_seconds: int
    ) -> None:
        self._redis = redis
        self._sessions = sessions
        self._ttl = ttl_seconds

    async def mark(self, session_ids: Iterable[uuid.UUID]) -> None:
        ids = list(session_ids)
        if not ids:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.set(_KEY.format(session_id), "1", ex=self._ttl)
                await pipe.execute()
        except RedisError:
            # The database row is revoked already; with Redis down, is_revoked reads it.
            log.warning("could not publish %d session revocation(s) to Redis", len(ids))

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        try:
            return bool(await self._redis.exists(_KEY.format(session_id)))
        except RedisError:
            async with self._sessions() as db:
                revoked = await db.exec(
                    select(AuthSession.id)
                    .where(col(AuthSession.id) == session_id)
                    .where(col(AuthSession.revoked_at).is_not(None))
                )
            return revoked.first() is not None
