"""Fixtures for the hardening tests: apps of their own, built with chosen settings.

The session `app` has every rate limit at 100000/60 so ordinary tests never meet one;
the tests here that are about limits start apps with the values they need, on the
same PostgreSQL database and Redis database as the rest of the run (so conftest's
clean_state empties what they leave behind)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from api.app import create_app
from tests.conftest import make_settings

# The shipped defaults of api/settings.py, written out: test_rate_limits checks that
# they still are the defaults, so a changed default cannot slip past these tests.
SHIPPED_RATE_LIMITS: dict[str, Any] = {
    "rate_limits": True,
    "rate_login_ip": "30/300",
    "rate_register_ip": "10/600",
    "rate_password_reset_ip": "5/900",
    "rate_password_reset_email": "3/3600",
    "rate_verification_user": "3/900",
    "rate_refresh_session": "30/60",
    "rate_requests_ip": "600/60",
    "login_free_failures": 5,
    "login_failure_window_seconds": 900,
    "login_lockout_max_seconds": 900,
}

# Passes check_deployable: a long random JWT secret comes from make_settings.
PRODUCTION: dict[str, Any] = {"app_env": "production", "smtp_host": "smtp.glassshop.test"}

# What a non-browser client sends with a GET: the API's CSRF prevention refuses a GET
# without a header that forces a CORS preflight (see test_csrf.py).
PREFLIGHT = {"apollo-require-preflight": "true"}

# Port 1 on loopback: connections are refused at once.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"

StartApp = Callable[..., Awaitable[Starlette]]


@pytest.fixture
async def start_app(database_url: str, redis_url: str) -> AsyncIterator[StartApp]:
    """`await start_app(**overrides)`: a running app with make_settings(**overrides);
    `redis_url=` picks another Redis. Every app is shut down after the test."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Starlette:
            url = overrides.pop("redis_url", redis_url)
            application = create_app(make_settings(database_url, url, **overrides))
            await stack.enter_async_context(LifespanManager(application))
            return application

        yield start
