"""AuditLog and its connection."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from strawberry.scalars import JSON

from db.models import AuditLog
from schema.audit.service import AuditAction
from schema.context import Info
from schema.pagination import Page
from schema.relay import Node, PageInfo

if TYPE_CHECKING:
    from schema.accounts.types import UserType

AuditActionType = strawberry.enum(AuditAction, name="AuditAction")


@strawberry.type(name="AuditLog", description="One recorded change. Append-only.")
class AuditLogType(Node):
    action: AuditActionType  # type: ignore[valid-type]
    model_name: str
    object_id: str | None
    changes: JSON
    ip_address: str | None
    created_at: datetime
    user_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field
    async def user(
        self, info: Info
    ) -> Annotated[UserType, strawberry.lazy("schema.accounts.types")] | None:
        from schema.accounts.types import UserType

        if self.user_id is None:
            return None
        found = await info.context.loaders.user.load(self.user_id)
        return UserType.from_model(found) if found is not None else None

    @classmethod
    def from_model(cls, entry: AuditLog) -> AuditLogType:
        return cls(
            id=strawberry.ID(str(entry.id)),
            action=AuditAction(entry.action),
            model_name=entry.model_name,
            object_id=entry.object_id,
            changes=cast(JSON, entry.changes),
            ip_address=entry.ip_address,
            created_at=entry.created_at,
            user_id=entry.user_id,
        )


@strawberry.type
class AuditLogEdge:
    cursor: str
    node: AuditLogType


@strawberry.type
class AuditLogConnection:
    edges: list[AuditLogEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def of(cls, page: Page[AuditLog], total: int) -> AuditLogConnection:
        return cls(
            edges=[
                AuditLogEdge(cursor=c, node=AuditLogType.from_model(row))
                for row, c in zip(page.rows, page.cursors, strict=True)
            ],
            page_info=PageInfo.of(
                page.cursors, has_next=page.has_next_page, has_previous=page.has_previous_page
            ),
            total_count=total,
        )
