"""Writing audit rows. Callers add them inside their own unit of work, so an
operation and its audit row commit together or not at all."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from api.errors import BadUserInput
from api.unit_of_work import UnitOfWork
from db.models import AuditLog
from schema.pagination import Ordering, Page, PageArgs, SortKey, count, fetch_page
from schema.times import in_range

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
    uow.audit_entries.append(entry)
    return entry


NEWEST_FIRST = Ordering(
    "audit-newest-first",
    (
        SortKey(col(AuditLog.created_at), datetime, lambda row: row.created_at),
        SortKey(col(AuditLog.id), uuid.UUID, lambda row: row.id),
    ),
    descending=True,
)


async def user_audit_page(
    db: AsyncSession, user_id: uuid.UUID, args: PageArgs
) -> tuple[Page[AuditLog], int]:
    stmt = select(AuditLog).where(col(AuditLog.user_id) == user_id)
    page = await fetch_page(db, stmt, NEWEST_FIRST, args)
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


@dataclass(frozen=True, slots=True)
class AuditFilter:
    user_id: uuid.UUID | None = None
    actions: list[AuditAction] | None = None
    model_name: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def matches(self, entry: AuditLog) -> bool:
        """The same filter applied to one entry (for live subscriptions)."""
        return (
            (self.user_id is None or entry.user_id == self.user_id)
            and (not self.actions or entry.action in {a.value for a in self.actions})
            and (self.model_name is None or entry.model_name == self.model_name)
            and (self.created_after is None or entry.created_at >= self.created_after)
            and (self.created_before is None or entry.created_at <= self.created_before)
        )


def audit_statement(filters: AuditFilter) -> SelectOfScalar[AuditLog]:
    if filters.model_name is not None and (
        len(filters.model_name) > 64 or "\x00" in filters.model_name
    ):
        raise BadUserInput({"modelName": ["Use at most 64 characters, without NUL."]})
    stmt = select(AuditLog)
    if filters.user_id is not None:
        stmt = stmt.where(col(AuditLog.user_id) == filters.user_id)
    if filters.actions:
        stmt = stmt.where(col(AuditLog.action).in_([a.value for a in filters.actions]))
    if filters.model_name is not None:
        stmt = stmt.where(col(AuditLog.model_name) == filters.model_name)
    return in_range(
        stmt,
        col(AuditLog.created_at),
        filters.created_after,
        filters.created_before,
        field="created",
    )


async def audit_page(
    db: AsyncSession, filters: AuditFilter, args: PageArgs
) -> tuple[Page[AuditLog], int]:
    stmt = audit_statement(filters)
    page = await fetch_page(db, stmt, NEWEST_FIRST, args)
    return page, await count(db, stmt)
