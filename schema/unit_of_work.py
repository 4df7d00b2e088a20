"""Closes the request's database session when its operation ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension


class CloseSession(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            uow = getattr(self.execution_context.context, "uow", None)
            if uow is not None:
                await uow.close()
