"""Read-through cache of read models in Redis, shared by every API instance.

Each object has a generation counter. A writer bumps it after its transaction
commits; a reader remembers the generation it saw before querying PostgreSQL and
stores the row tagged with it. An entry whose tag is not the current generation is
a miss, so a reader that raced a writer can never leave a stale entry behind.

Entries are keyed by their record's shape (`shape_version`: its fields' names and
types), so releases whose records differ never read each other's entries: during a
rolling deploy each reads and fills its own, and no key outlives the fields it was
written with. The generation is keyed by object only, shared by every shape: a write
through any release makes every release's entry of that object a miss. An entry
that does not decode into its record anyway (corrupt, or written by code that changed
the encoding but not the fields) is a miss as well, and is overwritten.

If Redis is unreachable, every read is a miss and nothing is written back: reads
fall through to PostgreSQL and keep working."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import typing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.unit_of_work import UnitOfWork

log = logging.getLogger("glassshop.cache")

_ENTRY = "glassshop:cache:{kind}:{shape}:{id}"
# Not keyed by shape: invalidation has to reach the entries of every release.
_GENERATION = "glassshop:gen:{kind}:{id}"
# What decoding data of another shape raises: ValueError is the contract of
# `CachedRecord.from_json`; the others are what a decoder that indexes into the data
# raises when it is not the object it expects.
_UNDECODABLE = (ValueError, TypeError, LookupError)


class Dataclass(Protocol):
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


class CachedRecord(Dataclass, Protocol):
    """A read model the cache can hold: a dataclass (its fields are its shape) that
    round-trips through a JSON object."""

    def to_json(self) -> dict[str, Any]: ...

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Raises ValueError when `data` is not a record of this shape."""
        ...


R = TypeVar("R", bound=CachedRecord)


@functools.cache
def shape_version(record: type[Dataclass]) -> str:
    """A short name for the record's fields, their names and types, for its entries' keys.

    Derived, not declared, so that adding, removing or retyping a field moves the
    record to new keys without anyone remembering to bump a version. hashlib rather
    than hash(): every process of every release must compute the same name."""
    types = typing.get_type_hints(record)
    fields = sorted(f"{f.name}: {types[f.name]!r}" for f in dataclasses.fields(record))
    return hashlib.sha256("\n".join(fields).encode()).hexdigest()[:12]


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0


@dataclass(frozen=True, slots=True)
class Lookup(Generic[R]):
    """What Redis held: fresh entries, and the generations seen for the misses."""

    found: dict[uuid.UUID, R]
    generations: dict[uuid.UUID, int] | None  # None: Redis unavailable, do not write back


def entry_key(kind: str, record: type[Dataclass], id: uuid.UUID) -> str:
    return _ENTRY.format(kind=kind, shape=shape_version(record), id=id)


def generation_key(kind: str, id: uuid.UUID) -> str:
    return _GENERATION.format(kind=kind, id=id)


def _unwrap(raw: bytes | str) -> tuple[Any, dict[str, Any]]:
    """An entry's generation tag and record data."""
    entry = json.loads(raw)
    if not isinstance(entry, dict) or not isinstance(entry.get("v"), dict):
        raise ValueError("not a cache entry")
    return entry.get("g"), entry["v"]


@dataclass
class RecordCache:
    redis: Redis
    ttl_seconds: int = 300
    stats: CacheStats = field(default_factory=CacheStats)

    async def get_many(self, kind: str, record: type[R], ids: Sequence[uuid.UUID]) -> Lookup[R]:
        keys = [entry_key(kind, record, i) for i in ids]
        keys += [generation_key(kind, i) for i in ids]
        try:
            values = await self.redis.mget(keys)
        except RedisError:
            self.stats.errors += 1
            self.stats.misses += len(ids)
            return Lookup({}, None)
        entries, gens = values[: len(ids)], values[len(ids) :]
        found: dict[uuid.UUID, R] = {}
        generations: dict[uuid.UUID, int] = {}
        for key, raw, gen in zip(ids, entries, gens, strict=True):
            current = int(gen or 0)
            value = None if raw is None else self._decode(kind, record, raw, current)
            if value is None:
                generations[key] = current
            else:
                found[key] = value
        self.stats.hits += len(found)
        self.stats.misses += len(ids) - len(found)
        return Lookup(found, generations)

    def _decode(self, kind: str, record: type[R], raw: bytes | str, generation: int) -> R | None:
        """The record an entry holds, or None (a miss) if it is of another generation or
        does not decode: a bad entry must cost one PostgreSQL read, never the request."""
        try:
            tag, data = _unwrap(raw)
            return record.from_json(data) if tag == generation else None
        except _UNDECODABLE as exc:
            self.stats.errors += 1
            log.warning("undecodable cached %s entry, read from PostgreSQL: %s", kind, exc)
            return None

    async def put_many(
        self,
        kind: str,
        record: type[R],
        values: dict[uuid.UUID, R],
        generations: dict[uuid.UUID, int],
    ) -> None:
        if not values:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, value in values.items():
                    entry = json.dumps({"g": generations.get(key, 0), "v": value.to_json()})
                    pipe.set(entry_key(kind, record, key), entry, ex=self.ttl_seconds)
                await pipe.execute()
        except RedisError:
            self.stats.errors += 1

    async def invalidate(self, kind: str, ids: Sequence[uuid.UUID]) -> None:
        # Only the generation moves: that alone makes the object's entries of every shape
        # (which this release could not even name) a miss, and the next read replaces them.
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in ids:
                    gen_key = generation_key(kind, key)
                    pipe.incr(gen_key)
                    # Outlives any entry tagged with an older generation.
                    pipe.expire(gen_key, self.ttl_seconds * 2)
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
