"""Staff user management mutations."""

from __future__ import annotations

import strawberry

from schema.accounts.types import UserType
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import require_staff
from schema.records import UserRecord
from schema.users import service


async def _set_active(info: Info, id: strawberry.ID, *, active: bool) -> UserType:
    ctx = info.context
    user_id = parse_id(id)
    staff = await require_staff(info)
    change = service.reactivate if active else service.deactivate
    async with ctx.uow.transaction() as uow:
        user = await change(uow, ctx.resources, staff.id, user_id)
    record = UserRecord.of(user)
    ctx.loaders.prime_user(record)
    return UserType.from_model(record)


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="Staff only: soft delete / restore.")
    async def deactivate_user(self, info: Info, id: strawberry.ID) -> UserType:
        return await _set_active(info, id, active=False)

    @strawberry.mutation
    async def reactivate_user(self, info: Info, id: strawberry.ID) -> UserType:
        return await _set_active(info, id, active=True)
