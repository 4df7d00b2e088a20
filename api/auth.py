"""Authenticate at the edge: a Bearer access token becomes an Identity.

The backend never rejects a request itself. A bad token is remembered on the
identity, and the schema answers UNAUTHENTICATED where sign-in matters, so the
client gets a GraphQL error (and knows to refresh) rather than a bare 401."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from api.errors import ServiceUnavailable
from api.resources import Resources
from api.security.tokens import InvalidAccessToken


@dataclass(frozen=True, slots=True)
class Identity(BaseUser):
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    # A token was sent but is invalid, expired or revoked.
    token_rejected: bool = False
    # A valid token whose session could not be checked (PostgreSQL unavailable).
    token_unchecked: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def display_name(self) -> str:
        return str(self.user_id or "")

    @property
    def identity(self) -> str:
        return str(self.user_id or "")


ANONYMOUS = Identity()
REJECTED = Identity(token_rejected=True)
# Anonymous until the session can be checked; the schema answers SERVICE_UNAVAILABLE.
UNCHECKED = Identity(token_unchecked=True)


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""  # present but unusable: rejected, not anonymous
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
        if await resources.revocations.is_revoked(claims.session_id):
            return REJECTED
    except ServiceUnavailable:
        return UNCHECKED
    return Identity(claims.user_id, claims.session_id)


class TokenAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        identity = await identify(conn.app.state.resources, bearer_token(conn))
        scopes = ["authenticated"] if identity.is_authenticated else []
        return AuthCredentials(scopes), identity
