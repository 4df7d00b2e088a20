"""With PostgreSQL unreachable the API fails closed, says nothing about why, and reports
itself not ready. (Redis outages: test_rate_limits, test_persisted_queries and
tests/schema/test_query_counts.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from api.app import create_app
from api.errors import ServiceUnavailable
from api.settings import Settings
from tests.conftest import make_settings
from tests.support.accounts import device
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, Account, GraphQLClient
from tests.support.services import UNREACHABLE_DATABASE


@pytest.fixture
async def databaseless_app(settings: Settings, redis_url: str) -> AsyncIterator[Starlette]:
    """An instance whose PostgreSQL is unreachable, sharing Redis and the JWT secret."""
    broken = make_settings(
        UNREACHABLE_DATABASE, redis_url, jwt_secret=settings.jwt_secret.get_secret_value()
    )
    application = create_app(broken)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def account(client: GraphQLClient) -> Account:
    return await client.register("outage@example.com")


async def test_with_postgresql_unreachable_login_fails_closed_without_details(
    databaseless_app: Starlette, account: Account
) -> None:
    async with device(databaseless_app) as client:
        result = await client.execute(
            LOGIN, {"input": {"email": account.email, "password": DEFAULT_PASSWORD}}
        )

    assert result.status == 200
    assert result.data is None
    assert result.error_codes == ["SERVICE_UNAVAILABLE"]
    assert result.errors[0]["message"] == ServiceUnavailable.default_message
    assert "set-cookie" not in result.http.headers
    for detail in ("asyncpg", "sqlalchemy", "127.0.0.1", "Connect", "Traceback"):
        assert detail.lower() not in result.http.text.lower()


async def test_with_postgresql_unreachable_the_instance_is_not_ready(
    databaseless_app: Starlette,
) -> None:
    async with device(databaseless_app) as client:
        ready = await client.http.get("/readyz")
        alive = await client.http.get("/healthz")

    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "redis": "ok"},
    }
    assert alive.status_code == 200


async def test_with_postgresql_unreachable_a_cached_user_is_still_answered(
    client: GraphQLClient, databaseless_app: Starlette, account: Account
) -> None:
    me = "{ me { id email } }"
    (await client.execute(me, token=account.access_token)).ok()  # cached by the healthy app

    async with device(databaseless_app) as broken:
        result = await broken.execute(me, token=account.access_token)

    assert result.ok() == {"me": {"id": account.id, "email": account.email}}
