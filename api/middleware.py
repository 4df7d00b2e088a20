"""ASGI middleware of our own: request ids, the per-IP request budget and security
headers. (CSRF: the GraphQL view accepts POST bodies only as application/json, and GET
only with a header that forces a CORS preflight; see schema/view.py and SECURITY.md.)"""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import RateLimited
from api.logging import request_id_var

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
        request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[self.header] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestBudgetMiddleware:
    """The general per-IP budget on /graphql, before any GraphQL work is done.

    Placed after the proxy-headers middleware, so the budget is the real client's. One
    request costs one; the view charges a batch of N operations the other N - 1."""

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


class SecurityHeadersMiddleware:
    """Headers every response carries. API responses also get a lock-down CSP; HTML
    pages (GraphiQL, the web client) bring their own policy."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = {
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer",
            "cross-origin-opener-policy": "same-origin",
            "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
        }
        if hsts:
            self.headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if not headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault(
                        "content-security-policy", "default-src 'none'; frame-ancestors 'none'"
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)
