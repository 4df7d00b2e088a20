"""Authenticate at the edge: a Bearer access token becomes an Identity.

The backend never rejects a request itself. A bad token is remembered on the
identity, and the schema answers UNAUTHENTICATED where sign-in matters, so the
client gets a GraphQL error (and knows to refresh) rather than a bare 401."""

from __future__ import annotations

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection

from api.authentication import identify, parse_bearer
from api.identity import ANONYMOUS, Identity


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
    return parse_bearer(conn.headers.get("authorization"))


class TokenAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser]:
        identity = await identify(conn.app.state.resources, bearer_token(conn))
        scopes = ["authenticated"] if identity.is_authenticated else []
        return AuthCredentials(scopes), RequestUser(identity)
