"""Who an access token names, checked at the moment of asking: signature, expiry and
claims (TokenCodec), then the session (live, and the subject's own). Used for every
HTTP request (api/http/auth.py) and for every operation on a websocket."""

from __future__ import annotations

from api.errors import ServiceUnavailable
from api.identity import ANONYMOUS, REJECTED, UNCHECKED, Identity
from api.infra.tokens import InvalidAccessToken
from api.resources import Resources


def parse_bearer(value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value: None when there is no
    value, "" when one is present but unusable (rejected, not anonymous)."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


async def identify(resources: Resources, token: str | None) -> Identity:
    """Who an access token names: anonymous without one, rejected if it is not valid."""
    if token is None:
        return ANONYMOUS
    try:
        claims = resources.tokens.decode_access(token)
    except InvalidAccessToken:
        return REJECTED
    try:
        if await resources.revocations.is_revoked(claims.session_id, claims.user_id):
            return REJECTED
    except ServiceUnavailable:
        return UNCHECKED
    return Identity(claims.user_id, claims.session_id)
