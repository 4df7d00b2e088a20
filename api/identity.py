"""Who is asking: the signed-in identity an access token names, and where a request
came from. Plain values, shared by the HTTP edge, the GraphQL layer and the jobs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    # A token was sent but is invalid, expired or revoked.
    token_rejected: bool = False
    # A valid token whose session could not be checked (PostgreSQL unavailable).
    token_unchecked: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Identity()
REJECTED = Identity(token_rejected=True)
# Anonymous until the session can be checked; the schema answers SERVICE_UNAVAILABLE.
UNCHECKED = Identity(token_unchecked=True)


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Where a request came from, for audit rows and session records."""

    ip_address: str | None
    user_agent: str | None
    request_id: str | None
