"""Forging access tokens with PyJWT, to probe what the API accepts and refuses."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from api.settings import Settings


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token the API issued, read without checking anything."""
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def access_claims(
    settings: Settings, user_id: str, session_id: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """The claims of a well-formed access token, as the API itself would issue them."""
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    return {
        "sub": user_id,
        "sid": session_id,
        "iat": issued,
        "exp": issued + timedelta(minutes=15),
        "jti": uuid.uuid4().hex,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "type": "access",
    }


def forge(
    settings: Settings,
    user_id: str,
    session_id: str,
    *,
    secret: str | None = None,
    algorithm: str = "HS256",
    drop: Iterable[str] = (),
    **overrides: Any,
) -> str:
    """An access token with some claims changed (`overrides`) or left out (`drop`),
    signed with the API's secret unless another one is given."""
    claims = access_claims(settings, user_id, session_id)
    claims.update(overrides)
    for name in drop:
        del claims[name]
    key = secret if secret is not None else settings.jwt_secret.get_secret_value()
    return jwt.encode(claims, key, algorithm=algorithm)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned(claims: dict[str, Any]) -> str:
    """An `alg: none` token (no signature at all) carrying these claims."""
    header = {"alg": "none", "typ": "JWT"}
    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def with_payload(token: str, **changes: Any) -> str:
    """The token with its payload rewritten but its original signature kept."""
    header, payload, signature = token.split(".")
    padded = payload + "=" * (-len(payload) % 4)
    claims = json.loads(base64.urlsafe_b64decode(padded))
    claims.update(changes)
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
