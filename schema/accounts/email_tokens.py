"""Single-use emailed tokens: issued by the worker, consumed atomically by the API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select

from api.infra.tokens import hash_refresh_token
from api.unit_of_work import UnitOfWork
from db.models import EmailToken

VERIFY = "verify"
RESET = "reset"

# SHA-256 storage, as for refresh tokens (the token has 256 bits of entropy).
_hash = hash_refresh_token


def token_for_job(secret: str, outbox_id: uuid.UUID) -> str:
    """The token of one job: every attempt of the job (a retry after an email went out
    but the commit failed) mails the same link, and the link works."""
    digest = hmac.new(secret.encode(), f"email-token:{outbox_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


async def issue(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    purpose: str,
    ttl_seconds: int,
    outbox_id: uuid.UUID,
    secret: str,
) -> str:
    """The token for the job `outbox_id`, stored as a hash (once per job)."""
    raw = token_for_job(secret, outbox_id)
    now = datetime.now(UTC)
    values = {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "purpose": purpose,
        "token_hash": _hash(raw),
        "outbox_id": outbox_id,
        "expires_at": now + timedelta(seconds=ttl_seconds),
        "created_at": now,
        "updated_at": now,
    }
    stmt = insert(EmailToken).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["outbox_id"],
        set_={"token_hash": values["token_hash"], "expires_at": values["expires_at"]},
    )
    await uow.db.exec(stmt)
    return raw


async def consume(uow: UnitOfWork, raw: str, purpose: str) -> uuid.UUID | None:
    """Use a token up, once: of two concurrent attempts exactly one gets the user id."""
    now = datetime.now(UTC)
    result = await uow.db.exec(
        update(EmailToken)
        .where(col(EmailToken.token_hash) == _hash(raw))
        .where(col(EmailToken.purpose) == purpose)
        .where(col(EmailToken.used_at).is_(None))
        .where(col(EmailToken.expires_at) > now)
        .values(used_at=now)
        .returning(col(EmailToken.user_id))
    )
    return result.scalar_one_or_none()


async def owner(uow: UnitOfWork, raw: str, purpose: str) -> uuid.UUID | None:
    """Whose live token this is, without using it up: a caller that must lock the user
    before consuming (see email_flows._redeem_reset_link) learns whom to lock."""
    result = await uow.db.exec(
        select(EmailToken.user_id)
        .where(col(EmailToken.token_hash) == _hash(raw))
        .where(col(EmailToken.purpose) == purpose)
        .where(col(EmailToken.used_at).is_(None))
        .where(col(EmailToken.expires_at) > datetime.now(UTC))
    )
    return result.first()


async def use_up_all(uow: UnitOfWork, user_id: uuid.UUID, purpose: str) -> None:
    """Use up every outstanding token of the user for `purpose`, in the caller's unit of
    work: once the password is set, no older reset link may set it again.

    Callers lock the user's row (FOR UPDATE) first. A link redeemed at the same moment
    locks it too before consuming (email_flows._redeem_reset_link), so it waits, then
    finds its token used; consuming first would hold its token's row while waiting for
    the user: a deadlock."""
    await uow.db.exec(
        update(EmailToken)
        .where(col(EmailToken.user_id) == user_id)
        .where(col(EmailToken.purpose) == purpose)
        .where(col(EmailToken.used_at).is_(None))
        .values(used_at=datetime.now(UTC))
    )
