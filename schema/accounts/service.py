"""Registration, login and password change: plain async Python over SQL."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from api.errors import BadUserInput, EmailTaken, InvalidCredentials, NotFound, UsernameTaken
from api.infra.cache import forget_user_after_commit
from api.jobs.outbox import enqueue
from api.resources import Resources
from api.unit_of_work import UnitOfWork
from db.models import User, UserProfile
from schema.accounts import email_tokens, tasks
from schema.accounts import validation as v
from schema.accounts.sessions import IssuedTokens, publish_revocations, revoke_all, start_session
from schema.audit.service import AuditAction, record


@dataclass(frozen=True, slots=True)
class Registration:
    email: str
    password: str
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None


async def find_active_by_email(uow: UnitOfWork, email: str) -> User | None:
    found = await uow.db.exec(
        select(User)
        .where(func.lower(col(User.email)) == v.normalize_email(email))
        .where(col(User.deleted_at).is_(None))
    )
    return found.first()


async def _email_exists(uow: UnitOfWork, email: str) -> bool:
    found = await uow.db.exec(select(User.id).where(func.lower(col(User.email)) == email))
    return found.first() is not None


async def username_exists(
    uow: UnitOfWork, username: str, *, other_than: uuid.UUID | None = None
) -> bool:
    stmt = select(User.id).where(func.lower(col(User.username)) == username.lower())
    if other_than is not None:
        stmt = stmt.where(col(User.id) != other_than)
    return (await uow.db.exec(stmt)).first() is not None


async def _available_username(uow: UnitOfWork, email: str) -> str:
    """A username derived from the email's local part, made unique with a short suffix."""
    base = "".join(ch for ch in email.split("@", 1)[0] if ch.isalnum() or ch in "._-")[:30]
    base = base if len(base) >= 3 else f"user{base}"
    candidate = base
    while await username_exists(uow, candidate):
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


def _validate_registration(data: Registration, resources: Resources) -> tuple[str, v.FieldErrors]:
    errors: v.FieldErrors = {}
    email = v.normalize_email(data.email)
    v.add(errors, "email", v.email_problems(email, resources.settings))
    v.add(errors, "password", v.new_password_problems(data.password, resources.settings))
    if data.username is not None:
        v.add(errors, "username", v.username_problems(data.username))
    for field, value in (("firstName", data.first_name), ("lastName", data.last_name)):
        if value is not None:
            v.add(errors, field, v.name_problems(value))
    return email, errors


async def _create_account(
    uow: UnitOfWork, resources: Resources, data: Registration, *, is_staff: bool = False
) -> User:
    """Validate, then insert the user and an empty profile, with its REGISTER audit row."""
    email, errors = _validate_registration(data, resources)
    if errors:
        raise BadUserInput(errors)
    if await _email_exists(uow, email):
        raise EmailTaken()
    if data.username is not None and await username_exists(uow, data.username):
        raise UsernameTaken()
    password_hash = await resources.hashing.hash(data.password)
    user = User(
        email=email,
        username=data.username or await _available_username(uow, email),
        password_hash=password_hash,
        first_name=(data.first_name or "").strip(),
        last_name=(data.last_name or "").strip(),
        is_staff=is_staff,
    )
    uow.db.add(user)
    uow.db.add(UserProfile(user_id=user.id))
    try:
        # Flush now so a concurrent registration of the same email loses here, cleanly.
        await uow.db.flush()
    except IntegrityError as exc:
        raise (UsernameTaken() if "username" in str(exc.orig) else EmailTaken()) from None
    changes: dict[str, object] = {"email": email, "username": user.username}
    if is_staff:
        changes["isStaff"] = True
    record(
        uow,
        AuditAction.REGISTER,
        user_id=user.id,
        model_name="User",
        object_id=user.id,
        changes=changes,
    )
    return user


async def register(uow: UnitOfWork, resources: Resources, data: Registration) -> IssuedTokens:
    limiter = resources.rate_limiter
    await limiter.hit(limiter.rules.register_ip, uow.meta.ip_address or "unknown")
    user = await _create_account(uow, resources, data)
    enqueue(uow, resources.jobs, tasks.WELCOME, {"user_id": str(user.id)})
    return start_session(uow, resources, user)


async def login(uow: UnitOfWork, resources: Resources, email: str, password: str) -> IssuedTokens:
    limiter, rules = resources.rate_limiter, resources.rate_limiter.rules
    account = v.normalize_email(email)[:254]
    await limiter.hit(rules.login_ip, uow.meta.ip_address or "unknown")
    # Per account, whichever IPs the guesses come from; unknown emails alike, so a
    # lockout says nothing about whether the account exists. The attempt is admitted
    # (or refused) before the password is verified, and its outcome counted before it
    # is released, so parallel guesses cannot all slip past the lockout.
    async with limiter.login_attempt(account) as attempt:
        user = await find_active_by_email(uow, email)
        # Always verify (against a dummy hash for an unknown email) so both cost the same.
        ok = await resources.hashing.verify(user.password_hash if user else None, password)
        if user is None or not ok or not user.is_active:
            record(
                uow,
                AuditAction.LOGIN_FAILED,
                user_id=user.id if user else None,
                model_name="User",
                object_id=user.id if user else None,
                changes={} if user else {"email": account},
            )
            await attempt.failed()
            raise InvalidCredentials(keep_changes=True)
        await attempt.succeeded()
    if resources.hashing.needs_rehash(user.password_hash):
        user.password_hash = await resources.hashing.hash(password)
    user.last_login = datetime.now(UTC)
    forget_user_after_commit(uow, resources.cache, user.id)
    record(uow, AuditAction.LOGIN, user_id=user.id, model_name="User", object_id=user.id)
    return start_session(uow, resources, user)


async def change_password(
    uow: UnitOfWork,
    resources: Resources,
    user_id: uuid.UUID,
    *,
    current_password: str,
    new_password: str,
    current_session: uuid.UUID | None,
) -> None:
    user = await uow.db.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound()
    errors: v.FieldErrors = {}
    v.add(errors, "newPassword", v.new_password_problems(new_password, resources.settings))
    if not await resources.hashing.verify(user.password_hash, current_password):
        v.add(errors, "currentPassword", ["The current password is not correct."])
    elif new_password == current_password:
        v.add(errors, "newPassword", ["Choose a password different from the current one."])
    if errors:
        raise BadUserInput(errors)
    user.password_hash = await resources.hashing.hash(new_password)
    uow.db.add(user)
    # A reset link asked for earlier must not set the password back over this one.
    await email_tokens.use_up_all(uow, user.id, email_tokens.RESET)
    # Whoever else held a session may have known the old password: sign them out.
    revoked = await revoke_all(uow.db, user.id, "password-change", keep=current_session)
    record(
        uow,
        AuditAction.PASSWORD_CHANGE,
        user_id=user.id,
        model_name="User",
        object_id=user.id,
        changes={"revokedSessions": len(revoked)},
    )
    publish_revocations(uow, resources, revoked)


async def create_staff(uow: UnitOfWork, resources: Resources, email: str, password: str) -> User:
    """A staff account for the operator's CLI; there are no default accounts."""
    return await _create_account(uow, resources, Registration(email, password), is_staff=True)
