"""Per-request dataloaders: results in key order, one SQL query per batch.

Users and profiles read through the Redis cache (api/infra/cache.py) inside the batch
function, since Strawberry's own loader cache only lives for one request: MGET the
keys, load the misses in one query, write them back. The record class is passed with
its kind: its fields name the entries' keys and its from_json decides what decodes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from api.infra.cache import PROFILE, USER, RecordCache
from db.models import AuditLog, User, UserProfile
from schema.audit.service import audit_counts_by_user, first_audit_entries_by_user
from schema.records import ProfileRecord, UserRecord

R = TypeVar("R", UserRecord, ProfileRecord)

AuditPageKey = tuple[uuid.UUID, int]


class Loaders:
    def __init__(self, db: Callable[[], AsyncSession], cache: RecordCache) -> None:
        self._db = db
        self._cache = cache
        self.user = DataLoader[uuid.UUID, UserRecord | None](load_fn=self._users)
        self.profile_by_user = DataLoader[uuid.UUID, ProfileRecord | None](load_fn=self._profiles)
        self.audit_head = DataLoader[AuditPageKey, list[AuditLog]](load_fn=self._audit_heads)
        self.audit_count = DataLoader[uuid.UUID, int](load_fn=self._audit_counts)

    async def _cached(
        self,
        kind: str,
        keys: Sequence[uuid.UUID],
        record: type[R],
        load: Callable[[list[uuid.UUID]], Any],
    ) -> list[R | None]:
        lookup = await self._cache.get_many(kind, record, keys)
        found = dict(lookup.found)
        missing = [key for key in keys if key not in found]
        if missing:
            loaded: dict[uuid.UUID, R] = await load(missing)
            found.update(loaded)
            if lookup.generations is not None:
                await self._cache.put_many(kind, record, loaded, lookup.generations)
        return [found.get(key) for key in keys]

    async def _users(self, ids: Sequence[uuid.UUID]) -> list[UserRecord | None]:
        async def load(missing: list[uuid.UUID]) -> dict[uuid.UUID, UserRecord]:
            rows = await self._db().exec(select(User).where(col(User.id).in_(missing)))
            return {row.id: UserRecord.of(row) for row in rows}

        return await self._cached(USER, ids, UserRecord, load)

    async def _profiles(self, user_ids: Sequence[uuid.UUID]) -> list[ProfileRecord | None]:
        async def load(missing: list[uuid.UUID]) -> dict[uuid.UUID, ProfileRecord]:
            rows = await self._db().exec(
                select(UserProfile).where(col(UserProfile.user_id).in_(missing))
            )
            return {row.user_id: ProfileRecord.of(row) for row in rows}

        return await self._cached(PROFILE, user_ids, ProfileRecord, load)

    async def _audit_heads(self, keys: Sequence[AuditPageKey]) -> list[list[AuditLog]]:
        """The newest `n` entries of many users in one query per distinct `n`."""
        by_size: dict[int, list[uuid.UUID]] = {}
        for user_id, size in keys:
            by_size.setdefault(size, []).append(user_id)
        results: dict[AuditPageKey, list[AuditLog]] = {}
        for size, user_ids in by_size.items():
            heads = await first_audit_entries_by_user(self._db(), user_ids, size)
            for user_id in user_ids:
                results[(user_id, size)] = heads.get(user_id, [])
        return [results[key] for key in keys]

    async def _audit_counts(self, user_ids: Sequence[uuid.UUID]) -> list[int]:
        counts = await audit_counts_by_user(self._db(), list(user_ids))
        return [counts.get(user_id, 0) for user_id in user_ids]

    def prime_user(self, user: UserRecord) -> None:
        self.user.prime(user.id, user, force=True)

    def prime_profile(self, profile: ProfileRecord) -> None:
        self.profile_by_user.prime(profile.user_id, profile, force=True)
