"""Refresh-token sessions: issue, rotate with reuse detection, end.

A session is a refresh-token family. Each refresh rotates the token; presenting a
rotated token again means it was copied, so the whole family is revoked, unless
it happens within a short grace window (two tabs refreshing at the same moment).
A refresh in the grace window forks the chain; the first use of either branch retires
the other, so the family keeps one chain and a copied token cannot start its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import Forbidden, InvalidRefreshToken, NotFound
from api.infra.tokens import IssuedAccessToken, hash_refresh_token, new_refresh_token
from api.resources import Resources
from api.unit_of_work import UnitOfWork
from db.models import AuthSession, RefreshToken, User
from schema.audit.service import AuditAction, record
from schema.records import UserRecord


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    user: User
    session_id: uuid.UUID
    access: IssuedAccessToken
    refresh_token: str
    refresh_expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _issue_tokens(
    db: AsyncSession, resources: Resources, user: User, session: AuthSession, now: datetime
) -> IssuedTokens:
    """A new refresh token in the session's family, and an access token naming it."""
    token = new_refresh_token()
    expires = now + timedelta(seconds=resources.settings.refresh_token_ttl_seconds)
    db.add(
        RefreshToken(
            session_id=session.id, token_hash=hash_refresh_token(token), expires_at=expires
        )
    )
    session.expires_at = max(session.expires_at, expires)
    return IssuedTokens(
        user=user,
        session_id=session.id,
        access=resources.tokens.issue_access(user.id, session.id, now),
        refresh_token=token,
        refresh_expires_at=expires,
    )


def start_session(uow: UnitOfWork, resources: Resources, user: User) -> IssuedTokens:
    db, meta = uow.db, uow.meta
    now = _now()
    session = AuthSession(
        user_id=user.id,
        user_agent=meta.user_agent,
        ip_address=meta.ip_address,
        last_used_at=now,
        expires_at=now,
    )
    db.add(session)
    return _issue_tokens(db, resources, user, session, now)


async def _find_token(db: AsyncSession, raw: str) -> tuple[RefreshToken, AuthSession] | None:
    # FOR UPDATE serialises concurrent refreshes of one token and of one session: the
    # second waits, then sees the first one's rotation or revocation.
    row = (
        await db.exec(
            select(RefreshToken, AuthSession)
            .join(AuthSession, col(AuthSession.id) == col(RefreshToken.session_id))
            .where(col(RefreshToken.token_hash) == hash_refresh_token(raw))
            .with_for_update(of=[RefreshToken, AuthSession])
        )
    ).first()
    return (row[0], row[1]) if row else None


async def rotate(uow: UnitOfWork, resources: Resources, raw_token: str) -> IssuedTokens:
    """Exchange a refresh token for a new access token and refresh token."""
    db, meta = uow.db, uow.meta
    now = _now()
    found = await _find_token(db, raw_token)
    if found is None:
        raise InvalidRefreshToken()
    token, session = found
    await resources.rate_limiter.hit(resources.rate_limiter.rules.refresh_session, str(session.id))
    if session.revoked_at is not None or token.expires_at <= now or session.deleted_at is not None:
        raise InvalidRefreshToken()
    user = await db.get(User, session.user_id)
    if user is None or not user.is_active or user.deleted_at is not None:
        raise InvalidRefreshToken()

    if token.rotated_at is not None:
        grace = timedelta(seconds=resources.settings.refresh_reuse_grace_seconds)
        if now - token.rotated_at > grace:
            _revoke(session, now, "reuse")
            publish_revocations(uow, resources, [session.id])
            record(
                uow,
                AuditAction.TOKEN_REUSE_DETECTED,
                user_id=user.id,
                model_name="Session",
                object_id=session.id,
            )
            raise InvalidRefreshToken(keep_changes=True)
        # A concurrent refresh from another tab: give it its own token in the family.
    else:
        token.rotated_at = now
        await _supersede_other_heads(db, token)

    session.last_used_at = now
    session.ip_address = meta.ip_address
    session.user_agent = meta.user_agent or session.user_agent
    record(
        uow,
        AuditAction.TOKEN_REFRESH,
        user_id=user.id,
        model_name="Session",
        object_id=session.id,
    )
    return _issue_tokens(db, resources, user, session, now)


async def _supersede_other_heads(db: AsyncSession, token: RefreshToken) -> None:
    """Once a token of the family is exchanged, every other unused token of it is stale.

    The grace window can give a family two unused tokens: siblings made from one token
    by two tabs, or by a thief replaying it. Left alone, each would start a chain that
    is never presented twice, so reuse detection would never see the other. Marking the
    others rotated as of their own issue makes presenting one reuse, unless it is within
    the grace window of its issue (the other tab's answer arriving late)."""
    await db.exec(
        update(RefreshToken)
        .where(col(RefreshToken.session_id) == token.session_id)
        .where(col(RefreshToken.id) != token.id)
        .where(col(RefreshToken.rotated_at).is_(None))
        .values(rotated_at=col(RefreshToken.created_at))
    )


def publish_revocations(uow: UnitOfWork, resources: Resources, ids: list[uuid.UUID]) -> None:
    """Once committed, the sessions' access tokens stop working on every instance."""
    if ids:
        uow.after_commit(lambda: resources.revocations.revoked(ids))


def _revoke(session: AuthSession, now: datetime, reason: str) -> None:
    if session.revoked_at is None:
        session.revoked_at = now
        session.revoked_reason = reason


async def was_issued(db: AsyncSession, raw_token: str) -> bool:
    found = await db.exec(
        select(RefreshToken.id).where(col(RefreshToken.token_hash) == hash_refresh_token(raw_token))
    )
    return found.first() is not None


async def live_session_of_refresh_token(
    db: AsyncSession, resources: Resources, raw_token: str
) -> AuthSession | None:
    """The session a refresh token may still act for: not revoked, the token not
    expired and not rotated (beyond the grace window). A dead token names nothing."""
    now = _now()
    grace = timedelta(seconds=resources.settings.refresh_reuse_grace_seconds)
    found = await db.exec(
        select(AuthSession)
        .join(RefreshToken, col(RefreshToken.session_id) == col(AuthSession.id))
        .where(col(RefreshToken.token_hash) == hash_refresh_token(raw_token))
        .where(col(RefreshToken.expires_at) > now)
        .where(
            or_(col(RefreshToken.rotated_at).is_(None), col(RefreshToken.rotated_at) > now - grace)
        )
        .where(col(AuthSession.revoked_at).is_(None))
    )
    return found.first()


async def revoke_all(
    db: AsyncSession, user_id: uuid.UUID, reason: str, *, keep: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """Revoke every live session of a user (but `keep`); returns the revoked ids."""
    stmt = (
        update(AuthSession)
        .where(col(AuthSession.user_id) == user_id)
        .where(col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=_now(), revoked_reason=reason)
        .returning(col(AuthSession.id))
    )
    if keep is not None:
        stmt = stmt.where(col(AuthSession.id) != keep)
    return list((await db.exec(stmt)).scalars().all())


async def logout(
    uow: UnitOfWork,
    resources: Resources,
    *,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    everywhere: bool,
) -> None:
    db = uow.db
    if everywhere:
        revoked = await revoke_all(db, user_id, "logout-everywhere")
    elif session_id is not None:
        session = await db.get(AuthSession, session_id, with_for_update=True)
        revoked = []
        if session is not None and session.revoked_at is None:
            _revoke(session, _now(), "logout")
            revoked = [session.id]
    else:
        revoked = []
    record(
        uow,
        AuditAction.LOGOUT,
        user_id=user_id,
        model_name="Session",
        object_id=session_id,
        changes={"everywhere": everywhere, "revokedSessions": len(revoked)},
    )
    publish_revocations(uow, resources, revoked)


async def revoke_session(
    uow: UnitOfWork, resources: Resources, *, actor: UserRecord, session_id: uuid.UUID
) -> None:
    db = uow.db
    session = await db.get(AuthSession, session_id, with_for_update=True)
    if session is None:
        raise NotFound("No such session.")
    if session.user_id != actor.id and not actor.is_staff:
        raise Forbidden("You can only sign out your own sessions.")
    if session.revoked_at is not None:
        return
    _revoke(session, _now(), "revoked" if session.user_id == actor.id else "revoked-by-staff")
    record(
        uow,
        AuditAction.LOGOUT,
        user_id=session.user_id,
        model_name="Session",
        object_id=session.id,
        changes={"revokedBy": str(actor.id)},
    )
    publish_revocations(uow, resources, [session.id])


async def live_sessions(db: AsyncSession, user_id: uuid.UUID) -> list[AuthSession]:
    return list(
        await db.exec(
            select(AuthSession)
            .where(col(AuthSession.user_id) == user_id)
            .where(col(AuthSession.revoked_at).is_(None))
            .where(col(AuthSession.expires_at) > _now())
            .order_by(col(AuthSession.last_used_at).desc(), col(AuthSession.id))
        )
    )
