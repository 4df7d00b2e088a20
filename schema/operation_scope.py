"""One operation, one unit of work, and on a websocket one authentication per operation.

Each operation's unit of work is closed when the operation ends. Over HTTP every
operation already comes with its own context; on a websocket GlassShopSchema.stream
gives each operation a copy of the connection's context, and this extension checks it
as an HTTP request would be checked at that moment, before it executes: it is charged
to the per-IP request budget, its access token is verified again (expiry, live session
of its own user), and it may not be a mutation (mutations go over HTTP POST, where the
refresh cookie, CSRF rules and the sign-in count apply)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from api.authentication import identify
from schema.context import Context

NO_MUTATIONS_ON_SOCKETS = (
    "Send mutations with POST over HTTP: the websocket carries queries and subscriptions."
)


class OperationScope(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            context = self.execution_context.context
            if isinstance(context, Context) and not context.is_connection:
                await context.uow.close()

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.on_socket:
            await _admit_socket_operation(context, self.execution_context.operation_type)
        yield


async def _admit_socket_operation(context: Context, operation: OperationType) -> None:
    """Raised errors become the operation's errors (with their codes); it does not run."""
    resources, meta = context.resources, context.uow.meta
    await resources.rate_limiter.spend_request_budget(meta.ip_address)
    if operation is OperationType.MUTATION:
        raise GraphQLError(NO_MUTATIONS_ON_SOCKETS)
    context.identity = await identify(resources, context.bearer)
