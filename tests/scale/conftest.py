"""Fixtures for the scale-out tests: real `glassshop serve` processes (started once per
module: a process takes seconds to start) and a real worker process on the suite's
PostgreSQL and Redis, with a capturing SMTP server."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from tests.support.api_process import ApiProcess, api_environment, running_api
from tests.support.smtp import SmtpServer, smtp_server
from tests.support.worker import WorkerProcess, worker_environment

# Small enough to reach in a test; every other limit keeps its shipped default.
LOGIN_LIMIT = 4


@pytest.fixture(scope="module")
def jwt_secret() -> str:
    """One signing key for every process, as in a deployment."""
    return secrets.token_urlsafe(48)


@pytest.fixture(scope="module")
def shared_smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def worker_process(
    database_url: str, redis_url: str, shared_smtp: SmtpServer, jwt_secret: str, tmp_path: Path
) -> AsyncIterator[WorkerProcess]:
    """Per test: started after the tables are emptied, stopped before the next test empties
    them (a worker's transactions and TRUNCATE can deadlock)."""
    env = worker_environment(database_url, redis_url, shared_smtp, JWT_SECRET=jwt_secret)
    process = WorkerProcess(tmp_path / "worker.log", env)
    try:
        await process.wait_started()
        yield process
    finally:
        process.stop()


def _instance(
    name: str,
    database_url: str,
    redis_url: str,
    jwt_secret: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AbstractAsyncContextManager[ApiProcess]:
    env = api_environment(
        database_url, redis_url, jwt_secret, RATE_LIMIT_LOGIN_IP=f"{LOGIN_LIMIT}/60"
    )
    return running_api(tmp_path_factory.mktemp(name) / "api.log", env)


@pytest.fixture(scope="module")
async def instance_a(
    database_url: str, redis_url: str, jwt_secret: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiProcess]:
    async with _instance("api-a", database_url, redis_url, jwt_secret, tmp_path_factory) as api:
        yield api


@pytest.fixture(scope="module")
async def instance_b(
    database_url: str, redis_url: str, jwt_secret: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiProcess]:
    async with _instance("api-b", database_url, redis_url, jwt_secret, tmp_path_factory) as api:
        yield api
