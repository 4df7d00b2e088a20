"""Whether an access token's session is still live, shared by every API instance.

An access token names its user (`sub`) and its session (`sid`); the session is live
only if it is not revoked *and* belongs to that user, so a token cannot pair one
user with another user's session. PostgreSQL is the truth; Redis remembers "live"
(as the session's owner) for a few seconds so most requests need no query. Ending a
session overwrites that key with "revoked" for as long as an access token lives, so
its tokens stop working at once on every instance. "Live" is only ever written where
no marker exists (SET NX): an instance that read the session from PostgreSQL just
before the revocation committed cannot put "live" back over it. If Redis loses its
data the next request simply asks PostgreSQL again; if Redis is unreachable, every
check asks PostgreSQL. If PostgreSQL must be asked and cannot answer (unreachable,
or no answer within the check's time limit), the check raises ServiceUnavailable:
neither "live" nor "revoked" is known."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import ServiceUnavailable, is_unavailable
from db.models import AuthSession

log = logging.getLogger("glassshop.revocation")

_KEY = "glassshop:live-session:{}"
# A live session's marker is its owner's id (hex); a revoked one's is this.
_REVOKED = b"0"
# How stale "live" may be when a revocation could not reach Redis.
LIVE_TTL_SECONDS = 30


class SessionRevocations:
    def __init__(
        self,
        redis: Redis,
        database: async_sessionmaker[AsyncSession],
        *,
        ttl_seconds: int,
        check_timeout_seconds: float = 30.0,
    ) -> None:
        self._redis = redis
        self._database = database
        self._ttl = min(ttl_seconds, LIVE_TTL_SECONDS)
        # A revoked session's tokens are all expired after one access-token lifetime
        # (plus the verifier's leeway): the marker need not outlive them.
        self._revoked_ttl = ttl_seconds + 60
        # A hung database must not hang the request's authentication either.
        self._check_timeout = check_timeout_seconds

    async def revoked(self, session_ids: Iterable[uuid.UUID]) -> None:
        """Called after the revocation committed: mark these sessions revoked."""
        ids = list(session_ids)
        if not ids:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.set(_KEY.format(session_id), _REVOKED, ex=self._revoked_ttl)
                await pipe.execute()
        except RedisError:
            log.warning(
                "could not clear %d session(s) in Redis; their tokens stop within %d s",
                len(ids),
                self._ttl,
            )

    async def is_revoked(self, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """True unless the session is live and belongs to `user_id`."""
        key = _KEY.format(session_id)
        try:
            marker = await self._redis.get(key)
        except RedisError:
            return not await self._live_in_database(session_id, user_id)
        if marker == _REVOKED:
            return True
        if marker == user_id.hex.encode():
            return False
        # No marker, or another owner's (a forged pairing, or a marker written by an
        # older release): PostgreSQL decides, and only its "live" is remembered.
        live = await self._live_in_database(session_id, user_id)
        if live:
            await self.remember_live(session_id, user_id)
        return not live

    async def remember_live(self, session_id: uuid.UUID, user_id: uuid.UUID) -> None:
        """Cache what PostgreSQL just said, unless a revocation has been marked since."""
        with contextlib.suppress(RedisError):  # the next check asks PostgreSQL again
            await self._redis.set(_KEY.format(session_id), user_id.hex, ex=self._ttl, nx=True)

    async def _live_in_database(self, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        try:
            async with asyncio.timeout(self._check_timeout):
                return await self._query_live(session_id, user_id)
        except Exception as exc:
            if is_unavailable(exc):
                raise ServiceUnavailable() from exc
            raise

    async def _query_live(self, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        async with self._database() as db:
            found = await db.exec(
                select(AuthSession.id)
                .where(col(AuthSession.id) == session_id)
                .where(col(AuthSession.user_id) == user_id)
                .where(col(AuthSession.revoked_at).is_(None))
            )
            return found.first() is not None
