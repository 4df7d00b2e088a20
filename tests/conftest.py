"""Fixtures: real PostgreSQL and real Redis (found, or started), the real ASGI app.

GLASSSHOP_TEST_DB names the test database and picks a Redis database number, so
several test runs can share one PostgreSQL and one Redis without meeting."""

from __future__ import annotations

import os
import secrets
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from db.upgrade import upgrade_to_head
from tests.support.graphql import GraphQLClient
from tests.support.services import find_or_start_postgres, find_or_start_redis, recreate_database

TEST_DB = os.environ.get("GLASSSHOP_TEST_DB", "glassshop_test")
# A directory that never exists, so never holds a client build.
NO_CLIENT_DIST = Path(__file__).resolve().parent / "no-client-dist"
RATE_SPECS = (
    "rate_login_ip",
    "rate_register_ip",
    "rate_password_reset_ip",
    "rate_password_reset_email",
    "rate_verification_user",
    "rate_refresh_session",
    "rate_requests_ip",
    "rate_apq_register_ip",
)
TABLES = (
    "audit_logs",
    "refresh_tokens",
    "auth_sessions",
    "email_tokens",
    "outbox_messages",
    "user_profiles",
    "users",
)


@pytest.fixture(scope="session")
def database_url() -> str:
    url = recreate_database(find_or_start_postgres(), TEST_DB)
    upgrade_to_head(url)
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = make_url(find_or_start_redis().replace("redis://", "postgresql://", 1))
    # A Redis database of its own (1..15) per test database name; flushed between tests.
    number = 1 + zlib.crc32(TEST_DB.encode()) % 15
    return f"redis://{url.host}:{url.port or 6379}/{number}"


def make_settings(database_url: str, redis_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": database_url,
        "redis_url": redis_url,
        "jwt_secret": secrets.token_urlsafe(48),
        # OWASP's minimum keeps the suite fast while hashing stays real argon2id.
        "argon2_time_cost": 2,
        "argon2_memory_cost_kib": 19 * 1024,
        "argon2_parallelism": 1,
        # Real rate limiting, with limits no ordinary test reaches; the rate-limit
        # tests build apps with the shipped defaults.
        **dict.fromkeys(RATE_SPECS, "100000/60"),
        "login_free_failures": 1000,
        # No web client at / unless a test asks for one (CLIENT_DIST_DIR): what the
        # other paths answer must not depend on whether client/dist was built.
        "client_dist_dir": NO_CLIENT_DIST,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str) -> Settings:
    return make_settings(database_url, redis_url)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_async_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture(scope="session")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
async def clean_state(engine: AsyncEngine, redis: Redis) -> None:
    """Every test starts with empty tables and an empty Redis database."""
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    await redis.flushdb()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield GraphQLClient(http)
