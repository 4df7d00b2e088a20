"""Account mutations: thin resolvers around the services, one unit of work each."""

from __future__ import annotations

import uuid

import strawberry

from api.errors import Unauthenticated
from schema.accounts import service, sessions
from schema.accounts.cookies import auth_payload, clear_refresh_cookie, presented_refresh_token
from schema.accounts.inputs import ChangePasswordInput, LoginInput, RegisterInput
from schema.accounts.types import AuthPayload
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import current_user, require_user


@strawberry.type
class AccountMutations:
    @strawberry.mutation
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        ctx = info.context
        data = service.Registration(
            email=input.email,
            password=input.password,
            username=input.username,
            first_name=input.first_name,
            last_name=input.last_name,
        )
        async with ctx.uow.transaction() as uow:
            issued = await service.register(uow, ctx.resources, data)
        return auth_payload(ctx, issued)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        ctx = info.context
        async with ctx.uow.transaction() as uow:
            issued = await service.login(uow, ctx.resources, input.email, input.password)
        return auth_payload(ctx, issued)

    @strawberry.mutation(
        description=(
            "Rotates the refresh token (argument, else the cookie). "
            "Reusing a rotated token revokes its whole family."
        )
    )
    async def refresh(self, info: Info, refresh_token: str | None = None) -> AuthPayload:
        ctx = info.context
        token = presented_refresh_token(ctx, refresh_token)
        if token is None:
            raise Unauthenticated("No refresh token was presented.")
        async with ctx.uow.transaction() as uow:
            issued = await sessions.rotate(uow, ctx.resources, token)
        # A token that came in the httpOnly cookie never goes out in a readable body.
        return auth_payload(ctx, issued, body_allowed=refresh_token is not None)

    @strawberry.mutation(
        description=(
            "Revokes the current refresh token (argument, else cookie); "
            "everywhere: all of the user's sessions."
        )
    )
    async def logout(
        self, info: Info, refresh_token: str | None = None, everywhere: bool | None = False
    ) -> bool:
        ctx = info.context
        token = presented_refresh_token(ctx, refresh_token)
        async with ctx.uow.transaction() as uow:
            session = (
                await sessions.live_session_of_refresh_token(uow.db, ctx.resources, token)
                if token
                else None
            )
            session_id: uuid.UUID | None
            if session is not None:
                user_id, session_id = session.user_id, session.id
            else:
                # No usable refresh token: fall back to the access token's session.
                user = await current_user(info)
                if user is None:
                    clear_refresh_cookie(ctx)
                    ended = token is not None and await sessions.was_issued(uow.db, token)
                    if ended and not everywhere:
                        return True  # that token's session has ended already: nothing to do
                    raise Unauthenticated("Nothing to sign out of.")
                user_id, session_id = user.id, ctx.identity.session_id
            await sessions.logout(
                uow,
                ctx.resources,
                user_id=user_id,
                session_id=session_id,
                everywhere=bool(everywhere),
            )
        clear_refresh_cookie(ctx)
        return True

    @strawberry.mutation(description="Signs one of the caller's sessions out (staff: anyone's).")
    async def revoke_session(self, info: Info, id: strawberry.ID) -> bool:
        ctx = info.context
        session_id = parse_id(id)
        actor = await require_user(info)
        async with ctx.uow.transaction() as uow:
            await sessions.revoke_session(uow, ctx.resources, actor=actor, session_id=session_id)
        return True

    @strawberry.mutation
    async def change_password(self, info: Info, input: ChangePasswordInput) -> bool:
        ctx = info.context
        user = await require_user(info)
        async with ctx.uow.transaction() as uow:
            await service.change_password(
                uow,
                ctx.resources,
                user.id,
                current_password=input.current_password,
                new_password=input.new_password,
                current_session=ctx.identity.session_id,
            )
        return True
