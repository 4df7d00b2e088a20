"""Relay building blocks shared by the domains: the Node interface and PageInfo."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with a UUID that Query.node can fetch.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, has_previous: bool) -> PageInfo:
        return cls(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )
