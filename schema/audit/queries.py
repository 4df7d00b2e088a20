"""Reading the whole audit trail (staff)."""

from __future__ import annotations

import strawberry

from schema.audit.inputs import AuditLogFilter
from schema.audit.service import AuditFilter, audit_page
from schema.audit.types import AuditLogConnection
from schema.context import Info
from schema.pagination import PageArgs
from schema.permissions import require_staff


@strawberry.type
class AuditQueries:
    @strawberry.field(description="Staff only: the whole audit trail, newest first.")
    async def audit_logs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: AuditLogFilter | None = None,
    ) -> AuditLogConnection:
        await require_staff(info)
        filters = filter.to_filter() if filter is not None else AuditFilter()
        page, total = await audit_page(
            info.context.db, filters, PageArgs(first, after, last, before)
        )
        return AuditLogConnection.of(page, total)
