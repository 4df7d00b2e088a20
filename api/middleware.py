"""ASGI middleware of our own: request ids and the per-IP request budget."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import RateLimited

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, header: str = "x-request-id") -> None:
        self.app = app
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope["headers"]:
            if name.decode("latin-1") == self.header:
                incoming = value.decode("latin-1")
                break
        request_id = incoming if incoming and _VALID_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[self.header] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestBudgetMiddleware:
    """The general per-IP budget on /graphql, before any GraphQL work is done.

    Placed after the proxy-headers middleware, so the budget is the real client's."""

    def __init__(self, app: ASGIApp, path: str = "/graphql") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        limits = scope["app"].state.resources.limits
        client = scope.get("client")
        try:
            await limits.hit(limits.rules.requests_ip, client[0] if client else "unknown")
        except RateLimited as limited:
            body = {"errors": [{"message": limited.message, "extensions": limited.extensions()}]}
            response = JSONResponse(
                body, status_code=429, headers={"Retry-After": str(limited.retry_after)}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
