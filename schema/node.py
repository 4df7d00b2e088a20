"""Query.node: any object by its UUID, with the same permissions as its own query."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy import literal, union_all
from sqlmodel import col, select

from api.errors import Forbidden
from db.models import AuditLog, AuthSession, UserProfile
from schema.accounts.types import SessionType, UserType
from schema.audit.types import AuditLogType
from schema.context import Info
from schema.ids import parse_id
from schema.permissions import require_user
from schema.profiles.types import UserProfileType
from schema.records import ProfileRecord, UserRecord
from schema.relay import Node


async def _kind_of(info: Info, object_id: uuid.UUID) -> str | None:
    """Which table holds this id, in one query (ids are UUIDs, unique across tables)."""
    candidates = [
        select(literal(name).label("kind")).where(col(table.id) == object_id)
        for name, table in (
            ("UserProfile", UserProfile),
            ("AuditLog", AuditLog),
            ("Session", AuthSession),
        )
    ]
    row = (await info.context.db.exec(union_all(*candidates).limit(1))).first()  # type: ignore[call-overload]
    return str(row[0]) if row else None


def _allowed(viewer: UserRecord, owner_id: uuid.UUID | None) -> None:
    if not viewer.is_staff and viewer.id != owner_id:
        raise Forbidden()


@strawberry.type
class NodeQueries:
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        object_id = parse_id(id)
        viewer = await require_user(info)
        ctx = info.context
        user = await ctx.loaders.user.load(object_id)
        if user is not None:
            _allowed(viewer, user.id)
            return UserType.from_model(user)
        kind = await _kind_of(info, object_id)
        db = ctx.db
        if kind == "UserProfile":
            profile = await db.get(UserProfile, object_id)
            if profile is not None:
                _allowed(viewer, profile.user_id)
                return UserProfileType.from_model(ProfileRecord.of(profile))
        elif kind == "AuditLog":
            entry = await db.get(AuditLog, object_id)
            if entry is not None:
                _allowed(viewer, entry.user_id)
                return AuditLogType.from_model(entry)
        elif kind == "Session":
            session = await db.get(AuthSession, object_id)
            if session is not None:
                _allowed(viewer, session.user_id)
                current = {ctx.identity.session_id} if ctx.identity.session_id else set()
                return SessionType.from_model(session, current)
        return None
