"""Health endpoints: /healthz is the process; /readyz is ready with its database, and
degraded but still ready without Redis (it keeps serving), not ready without PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from api.app import create_app
from tests.conftest import make_settings
from tests.support.accounts import device
from tests.support.graphql import GraphQLClient
from tests.support.services import UNREACHABLE_DATABASE

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


async def test_healthz_answers_ok(client: GraphQLClient) -> None:
    reply = await client.http.get("/healthz")

    assert reply.status_code == 200 and reply.json() == {"status": "ok"}


async def test_readyz_reports_database_and_redis_reachable(client: GraphQLClient) -> None:
    reply = await client.http.get("/readyz")

    assert reply.status_code == 200
    assert reply.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


@pytest.fixture
async def redisless_app(database_url: str) -> AsyncIterator[Starlette]:
    application = create_app(make_settings(database_url, UNREACHABLE_REDIS))
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def databaseless_app(redis_url: str) -> AsyncIterator[Starlette]:
    application = create_app(make_settings(UNREACHABLE_DATABASE, redis_url))
    async with LifespanManager(application):
        yield application


async def test_readyz_without_redis_is_degraded_but_still_ready(
    redisless_app: Starlette,
) -> None:
    async with device(redisless_app) as client:
        reply = await client.http.get("/readyz")

    assert reply.status_code == 200
    assert reply.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "unavailable"},
    }


async def test_readyz_without_postgresql_is_not_ready(databaseless_app: Starlette) -> None:
    async with device(databaseless_app) as client:
        reply = await client.http.get("/readyz")

    assert reply.status_code == 503
    assert reply.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "redis": "ok"},
    }
