"""Account queries."""

from __future__ import annotations

import strawberry

from schema.accounts.types import UserType
from schema.context import Info
from schema.permissions import current_user


@strawberry.type
class AccountQueries:
    @strawberry.field(
        description=(
            "The signed-in user; null when the request carries no access token. An invalid "
            "or expired token is UNAUTHENTICATED, so clients know to refresh."
        )
    )
    async def me(self, info: Info) -> UserType | None:
        user = await current_user(info)
        return UserType.from_model(user) if user is not None else None
