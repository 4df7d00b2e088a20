"""Per-request dataloaders: results in key order, one SQL query per batch."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from strawberry.dataloader import DataLoader

from db.models import User, UserProfile


class Loaders:
    def __init__(self, db: Callable[[], AsyncSession]) -> None:
        self._db = db
        self.user = DataLoader[uuid.UUID, User | None](load_fn=self._users)
        self.profile_by_user = DataLoader[uuid.UUID, UserProfile | None](load_fn=self._profiles)

    async def _users(self, ids: Sequence[uuid.UUID]) -> list[User | None]:
        rows = await self._db().exec(select(User).where(col(User.id).in_(ids)))
        found = {row.id: row for row in rows}
        return [found.get(key) for key in ids]

    async def _profiles(self, user_ids: Sequence[uuid.UUID]) -> list[UserProfile | None]:
        rows = await self._db().exec(
            select(UserProfile).where(col(UserProfile.user_id).in_(user_ids))
        )
        found = {row.user_id: row for row in rows}
        return [found.get(key) for key in user_ids]

    def prime_user(self, user: User) -> None:
        self.user.prime(user.id, user, force=True)

    def prime_profile(self, profile: UserProfile) -> None:
        self.profile_by_user.prime(profile.user_id, profile, force=True)
