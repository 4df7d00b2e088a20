"""Read-through cache of read models in Redis, shared by every API instance.

Each object has a generation counter. A writer bumps it after its transaction
commits; a reader remembers the generation it saw before querying PostgreSQL and
stores the row tagged with it. An entry whose tag is not the current generation is
a miss, so a reader that raced a writer can never leave a stale entry behind.

If Redis is unreachable, every read is a miss and nothing is written back: reads
fall through to PostgreSQL and keep working."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.unit_of_work import UnitOfWork

log = logging.getLogger("glassshop.cache")

_ENTRY = "glassshop:cache:{kind}:{id}"
_GENERATION = "glassshop:gen:{kind}:{id}"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Lookup:
    """What Redis held: fresh entries, and the generations seen for the misses."""

    found: dict[uuid.UUID, dict[str, Any]]
    generations: dict[uuid.UUID, int] | None  # None: Redis unavailable, do not write back


@dataclass
class RecordCache:
    redis: Redis
    ttl_seconds: int = 300
    stats: CacheStats = field(default_factory=CacheStats)

    async def get_many(self, kind: str, ids: Sequence[uuid.UUID]) -> Lookup:
        keys = [_ENTRY.format(kind=kind, id=i) for i in ids]
        keys += [_GENERATION.format(kind=kind, id=i) for i in ids]
        try:
            values = await self.redis.mget(keys)
        except RedisError:
            self.stats.errors += 1
            self.stats.misses += len(ids)
            return Lookup({}, None)
        entries, gens = values[: len(ids)], values[len(ids) :]
        found: dict[uuid.UUID, dict[str, Any]] = {}
        generations: dict[uuid.UUID, int] = {}
        for key, raw, gen in zip(ids, entries, gens, strict=True):
            current = int(gen or 0)
            if raw is not None:
                entry = json.loads(raw)
                if entry.get("g") == current:
                    found[key] = entry["v"]
                    continue
            generations[key] = current
        self.stats.hits += len(found)
        self.stats.misses += len(ids) - len(found)
        return Lookup(found, generations)

    async def put_many(
        self, kind: str, values: dict[uuid.UUID, dict[str, Any]], generations: dict[uuid.UUID, int]
    ) -> None:
        if not values:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    entry = json.dumps({"g": generations.get(key, 0), "v": value})
                    pipe.set(_ENTRY.format(kind=kind, id=key), entry, ex=self.ttl_seconds)
                await pipe.execute()
        except RedisError:
            self.stats.errors += 1

    async def invalidate(self, kind: str, ids: Sequence[uuid.UUID]) -> None:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in ids:
                    gen_key = _GENERATION.format(kind=kind, id=key)
                    pipe.incr(gen_key)
                    # Outlives any entry tagged with an older generation.
                    pipe.expire(gen_key, self.ttl_seconds * 2)
                    pipe.delete(_ENTRY.format(kind=kind, id=key))
                await pipe.execute()
        except RedisError:
            # Entries expire within ttl_seconds; until then a reader may see the old row.
            self.stats.errors += 1
            log.warning("could not invalidate %d cached %s record(s)", len(ids), kind)


USER = "user"
PROFILE = "profile"


def forget_user_after_commit(uow: UnitOfWork, cache: RecordCache, user_id: uuid.UUID) -> None:
    """Once the transaction commits, every instance re-reads the user and profile."""

    async def forget() -> None:
        await cache.invalidate(USER, [user_id])
        await cache.invalidate(PROFILE, [user_id])

    uow.after_commit(forget)
