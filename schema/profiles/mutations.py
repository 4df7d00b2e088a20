"""Profile mutations."""

from __future__ import annotations

import strawberry

from schema.accounts.types import UserType
from schema.context import Info
from schema.permissions import require_user
from schema.profiles import service
from schema.profiles.inputs import UpdateProfileInput
from schema.records import ProfileRecord, UserRecord

_USER_FIELDS = {"first_name": "first_name", "last_name": "last_name", "username": "username"}
_PROFILE_FIELDS = {
    "avatar": "avatar",
    "phone": "phone",
    "address": "address",
    "preferences": "preferences",
    "metadata": "extra_metadata",
}


def _changes(input: UpdateProfileInput) -> service.ProfileChanges:
    changes = service.ProfileChanges()
    for source, target in _USER_FIELDS.items():
        value = getattr(input, source)
        if value is not strawberry.UNSET:
            changes.user[target] = value
    for source, target in _PROFILE_FIELDS.items():
        value = getattr(input, source)
        if value is not strawberry.UNSET:
            changes.profile[target] = value
    return changes


@strawberry.type
class ProfileMutations:
    @strawberry.mutation
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UserType:
        ctx = info.context
        user = await require_user(info)
        async with ctx.uow.transaction() as uow:
            updated, profile = await service.update_profile(
                uow, ctx.resources.cache, user.id, _changes(input)
            )
        record = UserRecord.of(updated)
        ctx.loaders.prime_user(record)
        ctx.loaders.prime_profile(ProfileRecord.of(profile))
        return UserType.from_model(record)
