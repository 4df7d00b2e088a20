"""Who is asking, for audit rows and session records."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection


@dataclass(frozen=True, slots=True)
class RequestMeta:
    ip_address: str | None
    user_agent: str | None
    request_id: str | None

    @classmethod
    def from_connection(cls, conn: HTTPConnection) -> RequestMeta:
        # conn.client is already the real client: ProxyHeadersMiddleware applied
        # X-Forwarded-For from trusted proxies only.
        agent = conn.headers.get("user-agent")
        return cls(
            ip_address=conn.client.host if conn.client else None,
            user_agent=agent[:512] if agent else None,
            request_id=getattr(conn.state, "request_id", None),
        )
