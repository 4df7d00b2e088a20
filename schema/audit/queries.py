"""Reading the audit trail, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from db.models import AuditLog
from schema.pagination import Page, PageArgs, SortKey, count, fetch_page

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
