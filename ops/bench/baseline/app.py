"""The yardstick of ops/bench/run.sh, not a product path: nothing serves or imports it.

    python -m ops.bench.baseline.app --config FILE --port PORT

FILE is written by `python -m ops.bench.settings_probe baseline-config FILE` from the
service's own settings. The same JSON answers as `glassshop serve` gives to the requests
that ops/bench/*.lua send to POST /graphql, from the same PostgreSQL database, with as
little as plain Starlette + asyncpg + orjson + PyJWT + argon2-cffi allow: no GraphQL, no
ORM, no Redis, no cache, no audit rows, no rate limits. The benchmark reports the
service's figures as ratios to these: what the service's layers cost on top of the work
itself. The request is dispatched on the root field its query text names:

  me        the access token verified as the service does (HS256, JWT_SECRET, issuer,
            audience, required claims, type "access"), then ONE SELECT of the user joined
            with the profile; {"data":{"me":{id email firstName profile{phone preferences}}}}
  users     the staff token verified, then ONE keyset SELECT of `first` users with their
            profiles in the service's default order (created_at, id), the staff check
            folded into it, no count; {"data":{"users":{"edges":[{"node":{...}}]}}}. It
            answers users.lua's query only (a totalCount, filter, cursor or ordering is
            refused as an error).
  refresh   in one transaction: the refresh token found by its SHA-256 and locked with its
            session (FOR UPDATE), checked (not rotated, not expired, session not revoked
            or deleted, user active), marked rotated, a new token inserted in the same
            session; an access token for the session. The refresh token is in the body
            only with `X-Refresh-Token-Transport: body`, as in the service.
  login     the user SELECTed by lower(email), argon2id verified in a thread pool of
            PASSWORD_HASH_WORKERS threads (a dummy hash for an unknown email, as the
            service does), an access token issued. No session row is written: its `sid`
            is a fresh UUID that names no session.
  register  argon2id hash in the pool, then ONE statement inserting the user (username
            from the email's local part) and its empty profile; an access token issued
            (register.lua selects only accessToken), no session row.

Failures are answered like GraphQL field errors (HTTP 200, "errors", extensions.code), so
ops/bench/common.lua counts them as errors."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import jwt
import orjson
import uvicorn
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# As api/infra/tokens.py.
ALGORITHM = "HS256"
ACCESS_TYPE = "access"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "aud", "type", "sid"]
BODY_TRANSPORT_HEADER = "x-refresh-token-transport"
MAX_PAGE_SIZE = 100

# The first field of the operation's selection set: `query { me {` -> "me".
_ROOT_FIELD = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)")
_USERS_PAGE = re.compile(r"^\s*query\s*\{\s*users\s*\(\s*first\s*:\s*(\d+)\s*\)\s*\{\s*edges\s*\{")

ME_SQL = """
SELECT u.id::text, u.email, u.first_name, p.user_id IS NOT NULL, p.phone, p.preferences
FROM users AS u LEFT JOIN user_profiles AS p ON p.user_id = u.id
WHERE u.id = $1 AND u.is_active AND u.deleted_at IS NULL
"""
# The staff check is an InitPlan of the same statement: a staff viewer is itself a
# row of users, so no rows at all means "not staff".
USERS_SQL = """
SELECT u.id::text, u.email, p.user_id IS NOT NULL, p.phone, p.preferences
FROM users AS u LEFT JOIN user_profiles AS p ON p.user_id = u.id
WHERE EXISTS (
    SELECT 1 FROM users AS viewer
    WHERE viewer.id = $1 AND viewer.is_staff AND viewer.is_active AND viewer.deleted_at IS NULL
)
ORDER BY u.created_at, u.id
LIMIT $2
"""
LOGIN_SQL = """
SELECT id::text, password_hash, is_active FROM users
WHERE lower(email) = $1 AND deleted_at IS NULL
"""
REGISTER_SQL = """
WITH new_user AS (
    INSERT INTO users (id, email, username, password_hash, first_name, last_name,
                       is_active, is_staff, created_at, updated_at)
    VALUES (gen_random_uuid(), $1, $2, $3, '', '', true, false, now(), now())
    RETURNING id
), new_profile AS (
    INSERT INTO user_profiles (id, user_id, preferences, metadata, created_at, updated_at)
    SELECT gen_random_uuid(), id, '{}'::jsonb, '{}'::jsonb, now(), now() FROM new_user
)
SELECT id::text FROM new_user
"""
REFRESH_FIND_SQL = """
SELECT rt.id, rt.session_id, s.user_id::text,
       rt.rotated_at IS NULL AND rt.expires_at > now()
       AND s.revoked_at IS NULL AND s.deleted_at IS NULL
       AND u.is_active AND u.deleted_at IS NULL
FROM refresh_tokens AS rt
JOIN auth_sessions AS s ON s.id = rt.session_id
JOIN users AS u ON u.id = s.user_id
WHERE rt.token_hash = $1
FOR UPDATE OF rt, s
"""
REFRESH_ROTATE_SQL = """
WITH rotated AS (
    UPDATE refresh_tokens SET rotated_at = now(), updated_at = now() WHERE id = $1
)
INSERT INTO refresh_tokens (id, session_id, token_hash, expires_at, created_at, updated_at)
VALUES (gen_random_uuid(), $2, $3, $4, now(), now())
"""


@dataclass(frozen=True, slots=True)
class Config:
    database_url: str
    jwt_secret: str
    jwt_issuer: str
    jwt_audience: str
    access_token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    argon2_time_cost: int
    argon2_memory_cost_kib: int
    argon2_parallelism: int
    password_hash_workers: int
    db_pool_size: int

    @classmethod
    def load(cls, path: Path) -> Config:
        return cls(**json.loads(path.read_text()))


class FieldError(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.body = orjson.dumps(
            {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
        )


UNAUTHENTICATED = "UNAUTHENTICATED"


class Baseline:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.pool: Any = None
        self.hasher = PasswordHasher(
            time_cost=config.argon2_time_cost,
            memory_cost=config.argon2_memory_cost_kib,
            parallelism=config.argon2_parallelism,
        )
        self.hash_pool = ThreadPoolExecutor(
            max_workers=config.password_hash_workers, thread_name_prefix="argon2"
        )
        self.dummy_hash = self.hasher.hash("glassshop-timing-equaliser")
        self.refresh_ttl = timedelta(seconds=config.refresh_token_ttl_seconds)
        self.handlers: dict[str, Callable[[Request, dict[str, Any], str], Awaitable[bytes]]] = {
            "me": self.me,
            "users": self.users,
            "refresh": self.refresh,
            "login": self.login,
            "register": self.register,
        }

    # --- tokens, as api/infra/tokens.py ---

    def viewer(self, request: Request) -> uuid.UUID:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise FieldError("Sign in to do this.", UNAUTHENTICATED)
        try:
            claims = jwt.decode(
                token.strip(),
                self.config.jwt_secret,
                algorithms=[ALGORITHM],
                audience=self.config.jwt_audience,
                issuer=self.config.jwt_issuer,
                options={"require": REQUIRED_CLAIMS},
            )
            if claims["type"] != ACCESS_TYPE:
                raise ValueError("not an access token")
            uuid.UUID(claims["sid"])
            return uuid.UUID(claims["sub"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, AttributeError):
            raise FieldError("The access token is invalid or expired.", UNAUTHENTICATED) from None

    def issue_access(self, user_id: str, session_id: str) -> str:
        issued = int(time.time())
        claims = {
            "sub": user_id,
            "sid": session_id,
            "iat": issued,
            "exp": issued + self.config.access_token_ttl_seconds,
            "jti": uuid.uuid4().hex,
            "iss": self.config.jwt_issuer,
            "aud": self.config.jwt_audience,
            "type": ACCESS_TYPE,
        }
        return jwt.encode(claims, self.config.jwt_secret, algorithm=ALGORITHM)

    # --- argon2id off the event loop, as api/infra/passwords.py ---

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def verify(self, password_hash: str | None, password: str) -> bool:
        target = password_hash if password_hash is not None else self.dummy_hash
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(self.hash_pool, self._verify, target, password)
        return ok and password_hash is not None

    async def hash(self, password: str) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.hash_pool, self.hasher.hash, password)

    # --- the operations ---

    async def me(self, request: Request, variables: dict[str, Any], query: str) -> bytes:
        user_id = self.viewer(request)
        row = await self.pool.fetchrow(ME_SQL, user_id)
        if row is None:
            raise FieldError("The access token is invalid or expired.", UNAUTHENTICATED)
        if not row[3]:
            raise FieldError("This user has no profile.", "NOT_FOUND")
        me = {
            "id": row[0],
            "email": row[1],
            "firstName": row[2],
            "profile": {"phone": row[4], "preferences": orjson.Fragment(row[5])},
        }
        return orjson.dumps({"data": {"me": me}})

    async def users(self, request: Request, variables: dict[str, Any], query: str) -> bytes:
        page = _USERS_PAGE.match(query)
        if page is None or "totalCount" in query or int(page[1]) > MAX_PAGE_SIZE:
            raise FieldError("The baseline answers users.lua's query only.", "BAD_USER_INPUT")
        viewer = self.viewer(request)
        rows = await self.pool.fetch(USERS_SQL, viewer, int(page[1]))
        if not rows:
            raise FieldError("Only staff can do this.", "FORBIDDEN")
        edges = []
        for row in rows:
            if not row[2]:
                raise FieldError("This user has no profile.", "NOT_FOUND")
            profile = {"phone": row[3], "preferences": orjson.Fragment(row[4])}
            edges.append({"node": {"id": row[0], "email": row[1], "profile": profile}})
        return orjson.dumps({"data": {"users": {"edges": edges}}})

    async def refresh(self, request: Request, variables: dict[str, Any], query: str) -> bytes:
        raw = variables.get("token")
        if not isinstance(raw, str) or not raw:
            raise FieldError("No refresh token was presented.", UNAUTHENTICATED)
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + self.refresh_ttl
        async with self.pool.acquire() as connection, connection.transaction():
            found = await connection.fetchrow(
                REFRESH_FIND_SQL, hashlib.sha256(raw.encode("utf-8")).hexdigest()
            )
            if found is None or not found[3]:
                # Raising rolls the transaction back.
                raise FieldError("The refresh token is invalid or expired.", UNAUTHENTICATED)
            await connection.execute(
                REFRESH_ROTATE_SQL,
                found[0],
                found[1],
                hashlib.sha256(token.encode("utf-8")).hexdigest(),
                expires,
            )
        in_body = request.headers.get(BODY_TRANSPORT_HEADER, "").strip().lower() == "body"
        payload = {
            "accessToken": self.issue_access(found[2], str(found[1])),
            "refreshToken": token if in_body else None,
        }
        return orjson.dumps({"data": {"refresh": payload}})

    async def login(self, request: Request, variables: dict[str, Any], query: str) -> bytes:
        email, password = _credentials(variables)
        row = await self.pool.fetchrow(LOGIN_SQL, email.strip().lower()[:254])
        ok = await self.verify(row[1] if row is not None else None, password)
        if row is None or not ok or not row[2]:
            raise FieldError("Invalid email or password.", UNAUTHENTICATED)
        access = self.issue_access(row[0], str(uuid.uuid4()))
        return orjson.dumps({"data": {"login": {"accessToken": access}}})

    async def register(self, request: Request, variables: dict[str, Any], query: str) -> bytes:
        email, password = _credentials(variables)
        email = email.strip().lower()
        if "@" not in email or len(password) < 8:
            raise FieldError("Invalid input.", "BAD_USER_INPUT")
        local = email.split("@", 1)[0]
        username = "".join(ch for ch in local if ch.isalnum() or ch in "._-")[:30]
        password_hash = await self.hash(password)
        try:
            user_id = await self.pool.fetchval(REGISTER_SQL, email, username, password_hash)
        except asyncpg.UniqueViolationError:
            raise FieldError("This email or username is taken.", "EMAIL_TAKEN") from None
        access = self.issue_access(user_id, str(uuid.uuid4()))
        return orjson.dumps({"data": {"register": {"accessToken": access}}})

    # --- HTTP ---

    async def graphql(self, request: Request) -> Response:
        try:
            payload = orjson.loads(await request.body())
            query = payload["query"]
            variables = payload.get("variables") or {}
            root = _ROOT_FIELD.search(query)
            handler = self.handlers.get(root[1]) if root else None
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            return _json(b'{"errors":[{"message":"Not a GraphQL request."}]}', 400)
        if handler is None or not isinstance(variables, dict):
            return _json(b'{"errors":[{"message":"Not an operation of the baseline."}]}', 400)
        try:
            return _json(await handler(request, variables, query))
        except FieldError as error:
            return _json(error.body)

    async def readyz(self, request: Request) -> Response:
        await self.pool.fetchval("SELECT 1")
        return _json(b'{"status":"ready"}')

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        size = self.config.db_pool_size
        self.pool = await asyncpg.create_pool(
            self.config.database_url, min_size=size, max_size=size
        )
        try:
            yield
        finally:
            await self.pool.close()
            self.hash_pool.shutdown(wait=False, cancel_futures=True)


def _credentials(variables: dict[str, Any]) -> tuple[str, str]:
    data = variables.get("input")
    email = data.get("email") if isinstance(data, dict) else None
    password = data.get("password") if isinstance(data, dict) else None
    if not isinstance(email, str) or not isinstance(password, str):
        raise FieldError("Give an email and a password.", "BAD_USER_INPUT")
    return email, password


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def create_app(config: Config) -> Starlette:
    baseline = Baseline(config)
    return Starlette(
        routes=[
            Route("/graphql", baseline.graphql, methods=["POST"]),
            Route("/readyz", baseline.readyz, methods=["GET"]),
        ],
        lifespan=baseline.lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(Config.load(args.config)),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
