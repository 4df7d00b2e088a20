"""The error vocabulary. Services raise these; schema/errors.py turns them into GraphQL
errors with the contract's extensions.code. Nothing here knows about GraphQL."""

from __future__ import annotations

from typing import ClassVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


class AppError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    default_message: ClassVar[str] = "Something went wrong."
    # True when what the operation wrote before failing must still be kept: a failed
    # login's audit row, a reused refresh token's revoked family.
    keep_changes: bool = False

    def __init__(self, message: str | None = None, *, keep_changes: bool = False) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.keep_changes = keep_changes

    def extensions(self) -> dict[str, object]:
        return {"code": self.code}


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"
    default_message = "Sign in to do this."


class InvalidCredentials(Unauthenticated):
    # One message for unknown email, wrong password and inactive account alike.
    default_message = "Invalid email or password."


class InvalidToken(Unauthenticated):
    default_message = "The access token is invalid or expired."


class InvalidRefreshToken(Unauthenticated):
    default_message = "The refresh token is invalid, expired or revoked."


class Forbidden(AppError):
    code = "FORBIDDEN"
    default_message = "You are not allowed to do this."


class NotFound(AppError):
    code = "NOT_FOUND"
    default_message = "Not found."


class Conflict(AppError):
    code = "CONFLICT"
    default_message = "This conflicts with existing data."


class EmailTaken(Conflict):
    default_message = "An account with this email already exists."


class UsernameTaken(Conflict):
    default_message = "This username is taken."


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"
    default_message = "Some input is invalid."

    def __init__(self, fields: dict[str, list[str]], message: str | None = None) -> None:
        super().__init__(message)
        self.fields = fields

    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "fields": self.fields}


class RateLimited(AppError):
    code = "RATE_LIMITED"
    default_message = "Too many attempts; try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "retryAfter": self.retry_after}


class ServiceUnavailable(AppError):
    code = "SERVICE_UNAVAILABLE"
    default_message = "The service is temporarily unavailable; try again shortly."


# SQLSTATE classes of a connection that failed or a server going away: 08 (connection
# exception) and 57P (shut down, crashed, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "57P")
# Refused or reset, a connect or socket timeout, no pooled connection in time.
_UNAVAILABLE_ERRORS = (
    ConnectionError,
    TimeoutError,
    PoolTimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_unavailable(error: BaseException) -> bool:
    """PostgreSQL or Redis could not be reached, went away mid-operation or did not answer
    in time: a ServiceUnavailable (try again shortly), not a bug."""
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None)
        lost = isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
        return error.connection_invalidated or lost
    sqlstate = getattr(error, "sqlstate", None)  # asyncpg's own, raised while connecting
    if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
        return True
    return isinstance(error, _UNAVAILABLE_ERRORS)
