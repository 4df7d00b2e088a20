"""Read models: the public columns of a row, safe to cache and to hand to resolvers.

Loaders return these rather than table rows, so a cached object can never carry a
password hash and a resolver cannot write through it. Writes load their own rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.models import User, UserProfile


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: uuid.UUID
    email: str
    username: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    email_verified_at: datetime | None
    last_login: datetime | None
    created_at: datetime
    deleted_at: datetime | None

    @property
    def can_sign_in(self) -> bool:
        return self.is_active and self.deleted_at is None

    @classmethod
    def of(cls, user: User) -> UserRecord:
        return cls(
            id=user.id,
            email=user.email,
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            is_active=user.is_active,
            is_staff=user.is_staff,
            email_verified_at=user.email_verified_at,
            last_login=user.last_login,
            created_at=user.created_at,
            deleted_at=user.deleted_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "email": self.email,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "is_active": self.is_active,
            "is_staff": self.is_staff,
            "email_verified_at": _iso(self.email_verified_at),
            "last_login": _iso(self.last_login),
            "created_at": _iso(self.created_at),
            "deleted_at": _iso(self.deleted_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UserRecord:
        created = _dt(data["created_at"])
        assert created is not None
        return cls(
            id=uuid.UUID(data["id"]),
            email=data["email"],
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            is_active=data["is_active"],
            is_staff=data["is_staff"],
            email_verified_at=_dt(data["email_verified_at"]),
            last_login=_dt(data["last_login"]),
            created_at=created,
            deleted_at=_dt(data["deleted_at"]),
        )


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    avatar: str | None
    phone: str | None
    address: str | None
    preferences: dict[str, Any]
    metadata: dict[str, Any]
    updated_at: datetime

    @classmethod
    def of(cls, profile: UserProfile) -> ProfileRecord:
        return cls(
            id=profile.id,
            user_id=profile.user_id,
            avatar=profile.avatar,
            phone=profile.phone,
            address=profile.address,
            preferences=profile.preferences,
            metadata=profile.extra_metadata,
            updated_at=profile.updated_at,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "user_id": str(self.user_id),
            "avatar": self.avatar,
            "phone": self.phone,
            "address": self.address,
            "preferences": self.preferences,
            "metadata": self.metadata,
            "updated_at": _iso(self.updated_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProfileRecord:
        updated = _dt(data["updated_at"])
        assert updated is not None
        return cls(
            id=uuid.UUID(data["id"]),
            user_id=uuid.UUID(data["user_id"]),
            avatar=data["avatar"],
            phone=data["phone"],
            address=data["address"],
            preferences=data["preferences"],
            metadata=data["metadata"],
            updated_at=updated,
        )
