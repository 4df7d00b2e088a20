"""The staff user list's connection."""

from __future__ import annotations

import uuid

import strawberry

from db.models import User
from schema.accounts.types import UserType
from schema.context import Info
from schema.pagination import Page
from schema.records import ProfileRecord, UserRecord
from schema.relay import PageInfo
from schema.users.service import UserListFilter, count_users


def _node(row: User, profiles: dict[uuid.UUID, ProfileRecord | None] | None) -> UserType:
    node = UserType.from_model(UserRecord.of(row))
    if profiles is not None:
        node.preloaded_profile = profiles.get(row.id)
    return node


@strawberry.type
class UserEdge:
    cursor: str
    node: UserType


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    filters: strawberry.Private[UserListFilter]

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        # Resolved only when selected: a page without totalCount runs no count at all.
        # Unfiltered or by isActive/isStaff alone it reads the trigger-kept user_counts
        # (at most four rows); with search or joinedAfter/joinedBefore it still counts
        # the filtered rows with a scan (schema/users/service.py count_users).
        return await count_users(info.context.db, self.filters)

    @classmethod
    def of(
        cls,
        page: Page[User],
        filters: UserListFilter,
        profiles: dict[uuid.UUID, ProfileRecord | None] | None = None,
    ) -> UserConnection:
        """`profiles`: every node's, when they were fetched ahead."""
        return cls(
            edges=[
                UserEdge(cursor=c, node=_node(row, profiles))
                for row, c in zip(page.rows, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(
                page.cursors, has_next=page.has_next_page, has_previous=page.has_previous_page
            ),
            filters=filters,
        )
