"""The staff user list's connection."""

from __future__ import annotations

import strawberry

from db.models import User
from schema.accounts.types import UserType
from schema.pagination import Page
from schema.records import UserRecord
from schema.relay import PageInfo


@strawberry.type
class UserEdge:
    cursor: str
    node: UserType


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[User], total: int) -> UserConnection:
        return cls(
            edges=[
                UserEdge(cursor=c, node=UserType.from_model(UserRecord.of(row)))
                for row, c in zip(page.rows, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(
                page.cursors, has_next=page.has_next_page, has_previous=page.has_previous_page
            ),
            total_count=total,
        )
