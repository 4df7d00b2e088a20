"""The per-IP request budget of /graphql (RATE_LIMIT_REQUESTS_IP), charged before any
GraphQL work is done."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import RateLimited


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
        limiter = scope["app"].state.resources.rate_limiter
        client = scope.get("client")
        try:
            await limiter.spend_request_budget(client[0] if client else None)
        except RateLimited as limited:
            body = {"errors": [{"message": limited.message, "extensions": limited.extensions()}]}
            response = JSONResponse(
                body, status_code=429, headers={"Retry-After": str(limited.retry_after)}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
