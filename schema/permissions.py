"""Who is asking, resolved from the edge identity; object-level rules live in services."""

from __future__ import annotations

import uuid

from api.errors import Forbidden, InvalidToken, ServiceUnavailable, Unauthenticated
from schema.context import Info
from schema.records import UserRecord


async def current_user(info: Info) -> UserRecord | None:
    """The signed-in user; None when anonymous. A rejected token, or one whose user may
    no longer sign in, is UNAUTHENTICATED so the client knows to refresh or sign in; a
    token whose session could not be checked is SERVICE_UNAVAILABLE (try again)."""
    identity = info.context.identity
    if identity.token_rejected:
        raise InvalidToken()
    if identity.token_unchecked:
        raise ServiceUnavailable()
    if identity.user_id is None:
        return None
    user = await info.context.loaders.user.load(identity.user_id)
    if user is None or not user.can_sign_in:
        raise InvalidToken()
    return user


async def require_user(info: Info) -> UserRecord:
    user = await current_user(info)
    if user is None:
        raise Unauthenticated()
    return user


async def require_self_or_staff(info: Info, owner_id: uuid.UUID) -> UserRecord:
    viewer = await require_user(info)
    if viewer.id != owner_id and not viewer.is_staff:
        raise Forbidden()
    return viewer


async def require_staff(info: Info) -> UserRecord:
    viewer = await require_user(info)
    if not viewer.is_staff:
        raise Forbidden("Only staff can do this.")
    return viewer
