"""Writing audit rows. Callers add them inside their own unit of work, so an
operation and its audit row commit together or not at all."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.unit_of_work import UnitOfWork
from db.models import AuditLog
from schema.pagination import Page, PageArgs, SortKey, count, fetch_page

# Never recorded in a diff, whatever an operation passes in.
_SECRET_FIELDS = frozenset({"password", "password_hash", "token", "refresh_token", "access_token"})


class AuditAction(enum.Enum):
    REGISTER = "REGISTER"
    LOGIN = "LOGIN"
    LOGIN_FAILED = "LOGIN_FAILED"
    LOGOUT = "LOGOUT"
    TOKEN_REFRESH = "TOKEN_REFRESH"
    TOKEN_REUSE_DETECTED = "TOKEN_REUSE_DETECTED"
    PROFILE_UPDATE = "PROFILE_UPDATE"
    PASSWORD_CHANGE = "PASSWORD_CHANGE"
    PASSWORD_RESET = "PASSWORD_RESET"
    EMAIL_VERIFIED = "EMAIL_VERIFIED"
    USER_DEACTIVATED = "USER_DEACTIVATED"
    USER_REACTIVATED = "USER_REACTIVATED"


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: {"from": old, "to": new}} for the fields whose value changed."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if name not in _SECRET_FIELDS and before.get(name) != value
    }


def record(
    uow: UnitOfWork,
    action: AuditAction,
    *,
    user_id: uuid.UUID | None,
    model_name: str,
    object_id: uuid.UUID | str | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    entry = AuditLog(
        user_id=user_id,
        action=action.value,
        model_name=model_name,
        object_id=str(object_id) if object_id is not None else None,
        changes={k: v for k, v in (changes or {}).items() if k not in _SECRET_FIELDS},
        ip_address=uow.meta.ip_address,
        user_agent=uow.meta.user_agent,
        request_id=uow.meta.request_id,
    )
    uow.db.add(entry)
    return entry


NEWEST_FIRST = (
    SortKey(AuditLog.created_at, "created_at", datetime),
    SortKey(AuditLog.id, "id", uuid.UUID),
)


async def user_audit_page(
    db: AsyncSession, user_id: uuid.UUID, args: PageArgs
) -> tuple[Page[AuditLog], int]:
    stmt = select(AuditLog).where(col(AuditLog.user_id) == user_id)
    page = await fetch_page(db, stmt, NEWEST_FIRST, descending=True, args=args)
    return page, await count(db, stmt)
