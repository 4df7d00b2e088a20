"""The live audit trail (graphql-transport-ws), fed by Redis pub/sub (api/infra/audit_feed.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.errors import InvalidToken
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
                await _still_allowed(info)
                yield AuditLogType.from_model(entry)
                await ctx.next_event()


async def _still_allowed(info: Info) -> None:
    """Checked again before each entry: a subscription outlives its connect-time check,
    and a signed-out session or a user who lost staff rights must stop receiving."""
    identity = info.context.identity
    if (
        identity.session_id is not None
        and identity.user_id is not None
        and await info.context.resources.revocations.is_revoked(
            identity.session_id, identity.user_id
        )
    ):
        raise InvalidToken()
    await require_staff(info)
