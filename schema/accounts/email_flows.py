"""Email verification and password reset: the API's half (the worker mails the links)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from api.errors import BadUserInput
from api.infra.cache import forget_user_after_commit
from api.jobs.outbox import enqueue
from api.resources import Resources
from api.unit_of_work import UnitOfWork
from db.models import User
from schema.accounts import email_tokens, tasks
from schema.accounts import validation as v
from schema.accounts.sessions import publish_revocations, revoke_all
from schema.audit.service import AuditAction, record

_DEAD_LINK = "This link is invalid, used or expired; ask for a new one."


async def request_verification(uow: UnitOfWork, resources: Resources, user_id: uuid.UUID) -> None:
    await resources.rate_limiter.hit(resources.rate_limiter.rules.verification_user, str(user_id))
    enqueue(uow, resources.jobs, tasks.VERIFICATION, {"user_id": str(user_id)})


async def request_password_reset(uow: UnitOfWork, resources: Resources, email: str) -> None:
    """The same work whether or not the account exists: the worker finds out, and the
    answer and its timing tell the requester nothing."""
    normalized = v.normalize_email(email)[:254]
    limiter = resources.rate_limiter
    await limiter.hit(limiter.rules.password_reset_ip, uow.meta.ip_address or "unknown")
    await limiter.hit(limiter.rules.password_reset_email, normalized)
    enqueue(uow, resources.jobs, tasks.PASSWORD_RESET, {"email": normalized})


async def _active_user(uow: UnitOfWork, user_id: uuid.UUID | None) -> User:
    user = await uow.db.get(User, user_id, with_for_update=True) if user_id else None
    if user is None or not user.is_active or user.deleted_at is not None:
        raise BadUserInput({"token": [_DEAD_LINK]})
    return user


async def verify_email(uow: UnitOfWork, resources: Resources, token: str) -> User:
    user = await _active_user(uow, await email_tokens.consume(uow, token, email_tokens.VERIFY))
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
        uow.db.add(user)
        record(
            uow,
            AuditAction.EMAIL_VERIFIED,
            user_id=user.id,
            model_name="User",
            object_id=user.id,
            changes={"emailVerified": {"from": False, "to": True}},
        )
        forget_user_after_commit(uow, resources.cache, user.id)
    return user


async def reset_password(
    uow: UnitOfWork, resources: Resources, token: str, new_password: str
) -> None:
    problems = v.new_password_problems(new_password, resources.settings)
    if problems:
        raise BadUserInput({"newPassword": problems})
    user = await _active_user(uow, await email_tokens.consume(uow, token, email_tokens.RESET))
    user.password_hash = await resources.hashing.hash(new_password)
    uow.db.add(user)
    # Whoever knew the old password, or holds a session, is signed out.
    revoked = await revoke_all(uow.db, user.id, "password-reset")
    record(
        uow,
        AuditAction.PASSWORD_RESET,
        user_id=user.id,
        model_name="User",
        object_id=user.id,
        changes={"revokedSessions": len(revoked)},
    )
    publish_revocations(uow, resources, revoked)
    forget_user_after_commit(uow, resources.cache, user.id)
