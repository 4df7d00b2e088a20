"""User, Session and AuthPayload GraphQL types, mapped explicitly from the tables
(the password hash has no path to a client)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.types.unset import UNSET, UnsetType

from api.errors import NotFound
from db.models import AuthSession
from schema.accounts.sessions import live_session_of_refresh_token, live_sessions
from schema.audit.service import NEWEST_FIRST, user_audit_page
from schema.audit.types import AuditLogConnection
from schema.context import Info
from schema.pagination import PageArgs, first_page
from schema.permissions import require_self_or_staff
from schema.records import ProfileRecord, UserRecord
from schema.relay import Node

if TYPE_CHECKING:
    from schema.profiles.types import UserProfileType


@strawberry.type(
    name="Session",
    description="One signed-in device: a refresh-token family. Never exposes the token.",
)
class SessionType(Node):
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip_address: str | None
    current: bool = strawberry.field(
        description="True for the session of the refresh token or access token making this request."
    )

    @classmethod
    def from_model(cls, session: AuthSession, current: set[uuid.UUID]) -> SessionType:
        return cls(
            id=strawberry.ID(str(session.id)),
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            expires_at=session.expires_at,
            user_agent=session.user_agent,
            ip_address=session.ip_address,
            current=session.id in current,
        )


@strawberry.type(name="User", description="A GlassShop account.")
class UserType(Node):
    email: str
    username: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    date_joined: datetime
    last_login: datetime | None
    email_verified: bool
    model_id: strawberry.Private[uuid.UUID]
    # Set by a list resolver that fetched every node's profile at once (users): then
    # `profile` resolves without a coroutine per node.
    preloaded_profile: strawberry.Private[ProfileRecord | UnsetType | None] = UNSET

    @classmethod
    def from_model(cls, user: UserRecord) -> UserType:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            is_active=user.is_active and user.deleted_at is None,
            is_staff=user.is_staff,
            date_joined=user.created_at,
            last_login=user.last_login,
            email_verified=user.email_verified_at is not None,
            model_id=user.id,
        )

    @strawberry.field
    def profile(
        self, info: Info
    ) -> Annotated[UserProfileType, strawberry.lazy("schema.profiles.types")]:
        if isinstance(self.preloaded_profile, UnsetType):
            # Not fetched ahead: a coroutine, which graphql-core awaits as it would an
            # async resolver's (a sync resolver spares the other nodes one each).
            return cast("UserProfileType", self._load_profile(info))
        return _profile_type(self.preloaded_profile)

    async def _load_profile(self, info: Info) -> UserProfileType:
        return _profile_type(await info.context.loaders.profile_by_user.load(self.model_id))

    @strawberry.field(description="The user's own audit trail: visible to the user and to staff.")
    async def audit_logs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> AuditLogConnection:
        await require_self_or_staff(info, self.model_id)
        args = PageArgs(first, after, last, before)
        args.validate()
        loaders = info.context.loaders
        if after is None and before is None and last is None:
            # The common nested case (`users { auditLogs(first: 5) }`): batched for all users.
            rows = await loaders.audit_head.load((self.model_id, args.size + 1))
            total = await loaders.audit_count.load(self.model_id)
            return AuditLogConnection.of(first_page(rows, NEWEST_FIRST, args.size), total)
        page, total = await user_audit_page(info.context.db, self.model_id, args)
        return AuditLogConnection.of(page, total)

    @strawberry.field(
        description="Signed-in sessions (one per refresh-token family): the user and staff."
    )
    async def sessions(self, info: Info) -> list[SessionType]:
        await require_self_or_staff(info, self.model_id)
        ctx = info.context
        current: set[uuid.UUID] = set()
        if ctx.identity.session_id is not None:
            # The access token (or this operation's own sign-in) names the session.
            current.add(ctx.identity.session_id)
        else:
            cookie = ctx.request.cookies.get(ctx.resources.settings.refresh_cookie_name)
            by_cookie = (
                await live_session_of_refresh_token(ctx.db, ctx.resources, cookie)
                if cookie
                else None
            )
            if by_cookie is not None:
                current.add(by_cookie.id)
        return [
            SessionType.from_model(s, current) for s in await live_sessions(ctx.db, self.model_id)
        ]


def _profile_type(profile: ProfileRecord | None) -> UserProfileType:
    from schema.profiles.types import UserProfileType

    if profile is None:
        raise NotFound("This user has no profile.")
    return UserProfileType.from_model(profile)


@strawberry.type(
    description=(
        "Returned by register, login and refresh. The refresh token is always also set as an "
        "httpOnly cookie scoped to the GraphQL path; refreshToken in the body is null unless "
        "the request carries `X-Refresh-Token-Transport: body` (non-browser consumers)."
    )
)
class AuthPayload:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str | None
    refresh_token_expires_at: datetime
    user: UserType
