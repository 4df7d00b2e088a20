"""The Strawberry ASGI view, building our typed Context for every request."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from api.auth import ANONYMOUS, Identity
from api.request_meta import RequestMeta
from api.resources import Resources
from api.unit_of_work import UnitOfWork
from schema.context import Context
from schema.errors import format_error


class GlassShopGraphQL(GraphQL[Context, None]):
    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        resources: Resources = request.app.state.resources
        identity = request.scope.get("user")
        meta = RequestMeta.from_connection(request)
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            resources=resources,
            identity=identity if isinstance(identity, Identity) else ANONYMOUS,
            uow=UnitOfWork(resources.sessions, meta),
        )

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # Errors raised outside the operation's extensions (rare) get the same mapping.
        if result.errors:
            request_id = getattr(request.state, "request_id", None)
            result.errors = [format_error(e, request_id) for e in result.errors]
        return await super().process_result(request, result)  # type: ignore[arg-type]
