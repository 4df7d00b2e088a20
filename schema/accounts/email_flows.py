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


def _dead_link(*, keep_changes: bool = False) -> BadUserInput:
    error = BadUserInput({"token": [_DEAD_LINK]})
    # BadUserInput's constructor takes no keep_changes; the flag is AppError's attribute.
    error.keep_changes = keep_changes
    return error


async def _redeem_reset_link(uow: UnitOfWork, token: str) -> User:
    """The active user of a live reset link, the link used up.

    The user's row is locked before the link is consumed, so that two of the user's
    links used at once queue on the user: the second then finds itself used up by the
    first's use_up_all (consuming first would deadlock the two, each holding its own
    token and waiting on the other's)."""
    owner = await email_tokens.owner(uow, token, email_tokens.RESET)
    user = await uow.db.get(User, owner, with_for_update=True) if owner else None
    if user is None or await email_tokens.consume(uow, token, email_tokens.RESET) is None:
        raise _dead_link()
    if not user.is_active or user.deleted_at is not None:
        # Refused, and the link stays used up (committed despite the error): it must
        # not work once the account is reactivated.
        raise _dead_link(keep_changes=True)
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
    user = await _redeem_reset_link(uow, token)
    user.password_hash = await resources.hashing.hash(new_password)
    uow.db.add(user)
    # The password is set: no other link of the user may set it again over this one.
    await email_tokens.use_up_all(uow, user.id, email_tokens.RESET)
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
