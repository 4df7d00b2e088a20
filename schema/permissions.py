"""Who is asking, resolved from the edge identity; object-level rules live in services."""

from __future__ import annotations

import uuid

from api.errors import Forbidden, InvalidToken, Unauthenticated
from db.models import User
from schema.context import Info


async def current_user(info: Info) -> User | None:
    """The signed-in user; None when anonymous. A rejected token, or one whose user may
    no longer sign in, is UNAUTHENTICATED so the client knows to refresh or sign in."""
    identity = info.context.identity
    if identity.token_rejected:
        raise InvalidToken()
    if identity.user_id is None:
        return None
    user = await info.context.loaders.user.load(identity.user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise InvalidToken()
    return user


async def require_user(info: Info) -> User:
    user = await current_user(info)
    if user is None:
        raise Unauthenticated()
    return user


async def require_self_or_staff(info: Info, owner_id: uuid.UUID) -> User:
    viewer = await require_user(info)
    if viewer.id != owner_id and not viewer.is_staff:
        raise Forbidden()
    return viewer
