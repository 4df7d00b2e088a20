"""The UserProfile GraphQL type, mapped explicitly from the table."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from api.errors import NotFound
from schema.context import Info
from schema.records import ProfileRecord
from schema.relay import Node

if TYPE_CHECKING:
    from schema.accounts.types import UserType


@strawberry.type(name="UserProfile", description="Contact details and free-form settings.")
class UserProfileType(Node):
    avatar: str | None
    phone: str | None
    address: str | None
    preferences: JSON
    metadata: JSON
    updated_at: datetime
    user_id: strawberry.Private[str]

    @strawberry.field
    async def user(
        self, info: Info
    ) -> Annotated[UserType, strawberry.lazy("schema.accounts.types")]:
        import uuid

        from schema.accounts.types import UserType

        found = await info.context.loaders.user.load(uuid.UUID(self.user_id))
        if found is None:
            raise NotFound()
        return UserType.from_model(found)

    @classmethod
    def from_model(cls, profile: ProfileRecord) -> UserProfileType:
        return cls(
            id=strawberry.ID(str(profile.id)),
            avatar=profile.avatar,
            phone=profile.phone,
            address=profile.address,
            preferences=cast(JSON, profile.preferences),
            metadata=cast(JSON, profile.metadata),
            updated_at=profile.updated_at,
            user_id=str(profile.user_id),
        )
