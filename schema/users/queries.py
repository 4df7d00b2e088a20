"""Reading users: one by id (staff, or oneself) and the staff list."""

from __future__ import annotations

import strawberry

from api.errors import Forbidden
from schema.accounts.types import UserType
from schema.context import Info
from schema.ids import parse_id
from schema.pagination import PageArgs, fetch_page
from schema.permissions import require_staff, require_user
from schema.records import UserRecord
from schema.selection import selects
from schema.users.inputs import OrderDirection, UserFilter, UserOrder
from schema.users.service import UserOrderField, user_ordering, users_statement
from schema.users.types import UserConnection


@strawberry.type
class UserQueries:
    @strawberry.field(
        description="A user by id: staff may read anyone; others only themselves (else FORBIDDEN)."
    )
    async def user(self, info: Info, id: strawberry.ID) -> UserType | None:
        user_id = parse_id(id)
        viewer = await require_user(info)
        if not viewer.is_staff and viewer.id != user_id:
            # Also for ids that do not exist: a non-staff caller learns nothing.
            raise Forbidden()
        found = await info.context.loaders.user.load(user_id)
        return UserType.from_model(found) if found is not None else None

    @strawberry.field(description="Staff only.")
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: UserFilter | None = None,
        order_by: UserOrder | None = None,
    ) -> UserConnection:
        await require_staff(info)
        filters = (filter or UserFilter()).to_filter()
        stmt = users_statement(filters)
        order = order_by or UserOrder(field=UserOrderField.DATE_JOINED)
        ordering = user_ordering(order.field, order.direction == OrderDirection.DESC)
        db = info.context.db
        page = await fetch_page(db, stmt, ordering, PageArgs(first, after, last, before))
        for row in page.rows:
            info.context.loaders.prime_user(UserRecord.of(row))
        profiles = None
        if page.rows and selects(info, "edges", "node", "profile"):
            # One batch for the page, fetched before the nodes resolve (see UserType).
            ids = [row.id for row in page.rows]
            found = await info.context.loaders.profile_by_user.load_many(ids)
            profiles = dict(zip(ids, found, strict=True))
        # totalCount is counted by its own resolver, and only when it is selected.
        return UserConnection.of(page, filters, profiles)
