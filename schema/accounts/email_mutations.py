"""Mutations of the email flows (verification, password reset)."""

from __future__ import annotations

import strawberry

from schema.accounts import email_flows
from schema.accounts.types import UserType
from schema.context import Info
from schema.permissions import require_user
from schema.records import UserRecord


@strawberry.type
class EmailFlowMutations:
    @strawberry.mutation(description="Sends a verification link by email (async worker).")
    async def request_email_verification(self, info: Info) -> bool:
        ctx = info.context
        user = await require_user(info)
        if user.email_verified_at is not None:
            return True  # nothing to verify
        async with ctx.uow.transaction() as uow:
            await email_flows.request_verification(uow, ctx.resources, user.id)
        return True

    @strawberry.mutation
    async def verify_email(self, info: Info, token: str) -> UserType:
        ctx = info.context
        async with ctx.uow.transaction() as uow:
            user = await email_flows.verify_email(uow, ctx.resources, token)
        record = UserRecord.of(user)
        ctx.loaders.prime_user(record)
        return UserType.from_model(record)

    @strawberry.mutation(
        description="Always returns true, whether or not the email exists (no enumeration)."
    )
    async def request_password_reset(self, info: Info, email: str) -> bool:
        ctx = info.context
        async with ctx.uow.transaction() as uow:
            await email_flows.request_password_reset(uow, ctx.resources, email)
        return True

    @strawberry.mutation
    async def reset_password(self, info: Info, token: str, new_password: str) -> bool:
        ctx = info.context
        async with ctx.uow.transaction() as uow:
            await email_flows.reset_password(uow, ctx.resources, token, new_password)
        return True
