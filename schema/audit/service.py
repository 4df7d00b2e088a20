"""Writing audit rows. Callers add them inside their own unit of work, so an
operation and its audit row commit together or not at all."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
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


async def first_audit_entries_by_user(
    db: AsyncSession, user_ids: list[uuid.UUID], size: int
) -> dict[uuid.UUID, list[AuditLog]]:
    """Each user's newest `size` entries, for many users in one query (a window over
    the (user_id, created_at, id) index) instead of one query per user."""
    ranked = (
        select(
            AuditLog.id,
            func.row_number()
            .over(
                partition_by=col(AuditLog.user_id),
                order_by=(col(AuditLog.created_at).desc(), col(AuditLog.id).desc()),
            )
            .label("rank"),
        )
        .where(col(AuditLog.user_id).in_(user_ids))
        .subquery()
    )
    rows = await db.exec(
        select(AuditLog)
        .join(ranked, col(AuditLog.id) == ranked.c.id)
        .where(ranked.c.rank <= size)
        .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
    )
    grouped: dict[uuid.UUID, list[AuditLog]] = {}
    for row in rows:
        if row.user_id is not None:
            grouped.setdefault(row.user_id, []).append(row)
    return grouped


async def audit_counts_by_user(db: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await db.exec(
        select(AuditLog.user_id, func.count())
        .where(col(AuditLog.user_id).in_(user_ids))
        .group_by(col(AuditLog.user_id))
    )
    return {user_id: int(total) for user_id, total in rows if user_id is not None}
