"""Each operation's unit of work ends with it: CloseUnitOfWork closes the database
session of the context's UnitOfWork when the operation finishes."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension


class CloseUnitOfWork(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            uow = getattr(self.execution_context.context, "uow", None)
            if uow is not None:
                await uow.close()
