"""The RequestMeta of an HTTP request or websocket."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from api.identity import RequestMeta


def request_meta(conn: HTTPConnection) -> RequestMeta:
    # conn.client is already the real client: ProxyHeadersMiddleware applied
    # X-Forwarded-For from trusted proxies only.
    agent = conn.headers.get("user-agent")
    return RequestMeta(
        ip_address=conn.client.host if conn.client else None,
        user_agent=agent[:512] if agent else None,
        request_id=getattr(conn.state, "request_id", None),
    )
