"""The refresh token's transports: an httpOnly cookie for browsers, the response
body for clients that ask with `X-Refresh-Token-Transport: body`."""

from __future__ import annotations

from datetime import datetime

from api.errors import Forbidden
from api.identity import Identity
from schema.accounts.sessions import IssuedTokens
from schema.accounts.types import AuthPayload, UserType
from schema.context import Context
from schema.records import UserRecord

BODY_TRANSPORT_HEADER = "x-refresh-token-transport"


def wants_body_transport(ctx: Context) -> bool:
    return ctx.request.headers.get(BODY_TRANSPORT_HEADER, "").strip().lower() == "body"


def presented_refresh_token(ctx: Context, argument: str | None) -> str | None:
    """The argument wins; otherwise the cookie, if the request comes from an origin
    that may use it (the cookie authenticates on its own, so a foreign page must not)."""
    if argument:
        return argument
    cookie = ctx.request.cookies.get(ctx.resources.settings.refresh_cookie_name)
    if cookie:
        _check_origin(ctx)
    return cookie or None


def _check_origin(ctx: Context) -> None:
    origin = ctx.request.headers.get("origin")
    if origin is None:
        return  # not a cross-origin browser request (same-origin GETs, non-browser clients)
    own = f"{ctx.request.url.scheme}://{ctx.request.url.netloc}"
    if origin != own and origin not in ctx.resources.settings.cors_origins:
        raise Forbidden("This origin may not use the refresh cookie.")


def set_refresh_cookie(ctx: Context, token: str, expires_at: datetime) -> None:
    if ctx.response is None:
        return
    s = ctx.resources.settings
    ctx.response.set_cookie(
        s.refresh_cookie_name,
        token,
        max_age=max(0, int((expires_at - datetime.now(expires_at.tzinfo)).total_seconds())),
        path=s.refresh_cookie_path,
        domain=s.refresh_cookie_domain,
        secure=s.cookie_secure,
        httponly=True,
        samesite=s.refresh_cookie_samesite,
    )


def clear_refresh_cookie(ctx: Context) -> None:
    if ctx.response is None:
        return
    s = ctx.resources.settings
    ctx.response.delete_cookie(
        s.refresh_cookie_name,
        path=s.refresh_cookie_path,
        domain=s.refresh_cookie_domain,
        secure=s.cookie_secure,
        httponly=True,
        samesite=s.refresh_cookie_samesite,
    )


def auth_payload(ctx: Context, issued: IssuedTokens, *, body_allowed: bool = True) -> AuthPayload:
    set_refresh_cookie(ctx, issued.refresh_token, issued.refresh_expires_at)
    # The rest of this operation (e.g. `login { user { sessions } }`) runs as the
    # user who just signed in.
    ctx.identity = Identity(issued.user.id, issued.session_id)
    user = UserRecord.of(issued.user)
    ctx.loaders.prime_user(user)
    return AuthPayload(
        access_token=issued.access.token,
        access_token_expires_at=issued.access.expires_at,
        refresh_token=issued.refresh_token if body_allowed and wants_body_transport(ctx) else None,
        refresh_token_expires_at=issued.refresh_expires_at,
        user=UserType.from_model(user),
    )
