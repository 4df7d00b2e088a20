"""Filters and orderings of the staff user list (the contract's names)."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from schema.times import as_utc
from schema.users.service import UserListFilter
from schema.users.service import UserOrderField as UserOrderFieldValue

UserOrderField = strawberry.enum(UserOrderFieldValue, name="UserOrderField")


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input
class UserFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Matches email, username, first or last name (case-insensitive).",
    )
    is_active: bool | None = None
    is_staff: bool | None = None
    joined_after: datetime | None = None
    joined_before: datetime | None = None

    def to_filter(self) -> UserListFilter:
        return UserListFilter(
            search=self.search,
            is_active=self.is_active,
            is_staff=self.is_staff,
            joined_after=as_utc(self.joined_after),
            joined_before=as_utc(self.joined_before),
        )


@strawberry.input
class UserOrder:
    field: UserOrderField  # type: ignore[valid-type]
    direction: OrderDirection = OrderDirection.ASC
