"""The audit trail's filter (the contract's names)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.audit.service import AuditAction, AuditFilter
from schema.audit.types import AuditActionType
from schema.ids import parse_id
from schema.times import as_utc


@strawberry.input
class AuditLogFilter:
    user_id: strawberry.ID | None = None
    actions: list[AuditActionType] | None = None  # type: ignore[valid-type]
    model_name: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def to_filter(self) -> AuditFilter:
        return AuditFilter(
            user_id=parse_id(self.user_id, "userId") if self.user_id is not None else None,
            actions=[AuditAction(a) for a in self.actions] if self.actions else None,
            model_name=self.model_name,
            created_after=as_utc(self.created_after),
            created_before=as_utc(self.created_before),
        )
