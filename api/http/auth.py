"""Authenticate at the edge: a Bearer access token becomes an Identity.

The backend never rejects a request itself. A bad token is remembered on the
identity, and the schema answers UNAUTHENTICATED where sign-in matters, so the
client gets a GraphQL error (and knows to refresh) rather than a bare 401."""

from __future__ import annotations

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from api.errors import ServiceUnavailable
from api.identity import ANONYMOUS, REJECTED, UNCHECKED, Identity
from api.infra.tokens import InvalidAccessToken
from api.resources import Resources


class RequestUser(BaseUser):
    """Starlette's `request.user`: carries the request's Identity."""

    def __init__(self, caller: Identity) -> None:
        self.caller = caller

    @property
    def is_authenticated(self) -> bool:
        return self.caller.is_authenticated

    @property
    def display_name(self) -> str:
        return str(self.caller.user_id or "")

    @property
    def identity(self) -> str:
        return str(self.caller.user_id or "")


def request_identity(conn: HTTPConnection) -> Identity:
    """The Identity TokenAuthBackend found for this request (anonymous if none ran)."""
    user = conn.scope.get("user")
    return user.caller if isinstance(user, RequestUser) else ANONYMOUS


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
        if await resources.revocations.is_revoked(claims.session_id, claims.user_id):
            return REJECTED
    except ServiceUnavailable:
        return UNCHECKED
    return Identity(claims.user_id, claims.session_id)


class TokenAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        identity = await identify(conn.app.state.resources, bearer_token(conn))
        scopes = ["authenticated"] if identity.is_authenticated else []
        return AuthCredentials(scopes), RequestUser(identity)
