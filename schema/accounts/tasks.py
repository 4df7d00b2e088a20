"""Account emails, run by the worker from outbox messages (see api/jobs/runner.py).

Their text is the service's own words and links only: nothing a user typed (names,
usernames) is quoted, because the recipient's address may not be theirs."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from sqlmodel import col, func, select

from api.infra.mailer import Mail
from api.jobs.runner import JobEnv, handles
from api.unit_of_work import UnitOfWork
from db.models import OutboxMessage, User
from schema.accounts import email_tokens

WELCOME = "email.welcome"
VERIFICATION = "email.verification"
PASSWORD_RESET = "email.password_reset"  # noqa: S105 (a job kind)


def _link(env: JobEnv, path: str, token: str) -> str:
    return f"{env.settings.public_url.rstrip('/')}{path}?{urlencode({'token': token})}"


async def _user(uow: UnitOfWork, user_id: str) -> User | None:
    user = await uow.db.get(User, uuid.UUID(user_id))
    return user if user is not None and user.is_active and user.deleted_at is None else None


async def _verification_text(uow: UnitOfWork, env: JobEnv, user: User, job: OutboxMessage) -> str:
    token = await email_tokens.issue(
        uow,
        user.id,
        email_tokens.VERIFY,
        env.settings.email_verification_ttl_seconds,
        job.id,
        env.settings.jwt_secret.get_secret_value(),
    )
    hours = env.settings.email_verification_ttl_seconds // 3600
    return (
        f"Confirm your email address by opening this link within {hours} hours:\n\n"
        f"{_link(env, '/verify-email', token)}\n"
    )


@handles(WELCOME)
async def send_welcome(uow: UnitOfWork, env: JobEnv, job: OutboxMessage) -> None:
    user = await _user(uow, job.payload["user_id"])
    if user is None:
        return
    # No name or username: both are chosen by whoever registered, and the address is not
    # verified yet, so quoting them would let anyone put their words ("URGENT: call ...")
    # into an official GlassShop email to someone else's mailbox.
    text = "Welcome to GlassShop!\n\n"
    if user.email_verified_at is None:
        text += await _verification_text(uow, env, user, job)
    await env.mailer.send(Mail(user.email, "Welcome to GlassShop", text, key=str(job.id)))


@handles(VERIFICATION)
async def send_verification(uow: UnitOfWork, env: JobEnv, job: OutboxMessage) -> None:
    user = await _user(uow, job.payload["user_id"])
    if user is None or user.email_verified_at is not None:
        return
    text = await _verification_text(uow, env, user, job)
    await env.mailer.send(Mail(user.email, "Confirm your email address", text, key=str(job.id)))


@handles(PASSWORD_RESET)
async def send_password_reset(uow: UnitOfWork, env: JobEnv, job: OutboxMessage) -> None:
    found = await uow.db.exec(
        select(User)
        .where(func.lower(col(User.email)) == job.payload["email"])
        .where(col(User.deleted_at).is_(None))
        .where(col(User.is_active))
    )
    user = found.first()
    if user is None:
        return  # no account: nothing is sent, and the requester was told nothing
    token = await email_tokens.issue(
        uow,
        user.id,
        email_tokens.RESET,
        env.settings.password_reset_ttl_seconds,
        job.id,
        env.settings.jwt_secret.get_secret_value(),
    )
    minutes = env.settings.password_reset_ttl_seconds // 60
    text = (
        f"Someone asked to reset the password of your GlassShop account.\n\n"
        f"To choose a new password, open this link within {minutes} minutes:\n\n"
        f"{_link(env, '/reset-password', token)}\n\n"
        "If it was not you, ignore this message: your password stays as it is.\n"
    )
    await env.mailer.send(Mail(user.email, "Reset your GlassShop password", text, key=str(job.id)))
