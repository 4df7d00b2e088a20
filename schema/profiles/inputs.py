"""updateProfile's input. Omitted fields stay as they are; null clears a field."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON


@strawberry.input
class UpdateProfileInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    username: str | None = strawberry.UNSET
    avatar: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    address: str | None = strawberry.UNSET
    preferences: JSON | None = strawberry.UNSET
    metadata: JSON | None = strawberry.UNSET
