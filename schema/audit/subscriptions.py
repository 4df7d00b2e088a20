"""The live audit trail (graphql-transport-ws), fed by Redis pub/sub (api/audit_feed.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from schema.audit.inputs import AuditLogFilter
from schema.audit.service import AuditFilter
from schema.audit.types import AuditLogType
from schema.context import Info
from schema.permissions import require_staff


@strawberry.type(name="Subscription")
class AuditSubscriptions:
    """The Subscription root (only the audit domain has subscriptions)."""

    @strawberry.subscription(
        description="Staff only: audit entries as they are written (graphql-transport-ws)."
    )
    async def audit_log_added(
        self, info: Info, filter: AuditLogFilter | None = None
    ) -> AsyncGenerator[AuditLogType, None]:
        await require_staff(info)
        filters = filter.to_filter() if filter is not None else AuditFilter()
        ctx = info.context
        await ctx.next_event()
        async for entry in ctx.resources.audit_feed.listen():
            if filters.matches(entry):
                yield AuditLogType.from_model(entry)
                await ctx.next_event()
