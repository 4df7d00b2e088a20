"""Access tokens (PyJWT) and opaque refresh tokens (stored only as hashes)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
_REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "aud", "type", "sid"]


class InvalidAccessToken(Exception):
    """The bearer token is malformed, expired, forged or not an access token."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    token_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    expires_at: datetime


class TokenCodec:
    def __init__(self, *, secret: str, issuer: str, audience: str, access_ttl_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl = timedelta(seconds=access_ttl_seconds)

    def issue_access(
        self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime | None = None
    ) -> IssuedAccessToken:
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        expires = issued + self._ttl
        claims = {
            "sub": str(user_id),
            "sid": str(session_id),
            "iat": issued,
            "exp": expires,
            "jti": uuid.uuid4().hex,
            "iss": self._issuer,
            "aud": self._audience,
            "type": ACCESS_TYPE,
        }
        return IssuedAccessToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires)

    def decode_access(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
            if claims["type"] != ACCESS_TYPE:
                raise InvalidAccessToken("not an access token")
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                token_id=str(claims["jti"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise InvalidAccessToken(str(exc)) from None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # The token has 256 bits of entropy, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
