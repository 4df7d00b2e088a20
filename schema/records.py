"""Read models: the public columns of a row, safe to cache and to hand to resolvers.

Loaders return these rather than table rows, so a cached object can never carry a
password hash and a resolver cannot write through it. Writes load their own rows.

The cache keys each record's entries by its fields (api/infra/cache.py
`shape_version`): adding one here moves the record to new keys by itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from db.models import User, UserProfile

T = TypeVar("T")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# Reading back what `to_json` wrote. Cached data is checked, not trusted: an entry of
# another shape or a corrupt one must raise ValueError (the cache then reads
# PostgreSQL instead), never pass a wrong type on to a resolver.


def _field(data: dict[str, Any], name: str, kind: type[T]) -> T:
    value = data.get(name)
    if not isinstance(value, kind):
        raise ValueError(f"{name!r} is missing or not a {kind.__name__}")
    return value


def _optional(data: dict[str, Any], name: str, kind: type[T]) -> T | None:
    if name not in data:
        raise ValueError(f"{name!r} is missing")
    return None if data[name] is None else _field(data, name, kind)


def _uuid(data: dict[str, Any], name: str) -> uuid.UUID:
    return uuid.UUID(_field(data, name, str))


def _datetime(data: dict[str, Any], name: str) -> datetime:
    return datetime.fromisoformat(_field(data, name, str))


def _optional_datetime(data: dict[str, Any], name: str) -> datetime | None:
    value = _optional(data, name, str)
    return None if value is None else datetime.fromisoformat(value)


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
        """Raises ValueError if `data` is not what `to_json` writes (another shape)."""
        return cls(
            id=_uuid(data, "id"),
            email=_field(data, "email", str),
            username=_field(data, "username", str),
            first_name=_field(data, "first_name", str),
            last_name=_field(data, "last_name", str),
            is_active=_field(data, "is_active", bool),
            is_staff=_field(data, "is_staff", bool),
            email_verified_at=_optional_datetime(data, "email_verified_at"),
            last_login=_optional_datetime(data, "last_login"),
            created_at=_datetime(data, "created_at"),
            deleted_at=_optional_datetime(data, "deleted_at"),
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
        """Raises ValueError if `data` is not what `to_json` writes (another shape)."""
        return cls(
            id=_uuid(data, "id"),
            user_id=_uuid(data, "user_id"),
            avatar=_optional(data, "avatar", str),
            phone=_optional(data, "phone", str),
            address=_optional(data, "address", str),
            preferences=_field(data, "preferences", dict),
            metadata=_field(data, "metadata", dict),
            updated_at=_datetime(data, "updated_at"),
        )
