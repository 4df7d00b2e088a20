"""Fixtures for the background jobs: a capturing SMTP server and the real worker.

The API app under test has REDIS_URL set, so it only writes outbox rows and hands them
to the Redis queue; these fixtures start the worker that runs them.

Stopping a dramatiq worker takes over a second (its threads poll with a one-second
timeout), so the modules that only need "a worker is running" share one per module
(`shared_worker`, with `serving_worker` keeping the tests apart); the modules about
starting, stopping and killing workers start their own (`start_worker`, `spawn_worker`)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from api.jobs.worker import EmbeddedWorker
from tests.support.smtp import MailCapture, SmtpServer, smtp_server
from tests.support.worker import (
    WorkerProcess,
    outbox_rows,
    running_worker,
    wait_until_outbox_done,
    worker_environment,
    worker_settings,
)

StartWorker = Callable[..., Awaitable[EmbeddedWorker]]
SpawnWorker = Callable[..., Awaitable[WorkerProcess]]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mailbox(smtp: SmtpServer) -> MailCapture:
    return smtp.capture


@pytest.fixture(scope="module")
def shared_smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
async def shared_worker(
    database_url: str, redis_url: str, shared_smtp: SmtpServer
) -> AsyncIterator[EmbeddedWorker]:
    settings = worker_settings(database_url, redis_url, shared_smtp)
    async with running_worker(settings, database_url) as worker:
        yield worker


@pytest.fixture
async def serving_worker(
    shared_worker: EmbeddedWorker, shared_smtp: SmtpServer, engine: AsyncEngine
) -> AsyncIterator[EmbeddedWorker]:
    """The module's worker, with an empty mailbox; at teardown, waits until the outbox is
    done, so that no job of this test runs (or mails) during the next one."""
    shared_smtp.capture.clear()
    yield shared_worker
    rows = await outbox_rows(engine)
    await wait_until_outbox_done(engine, len(rows))


@pytest.fixture
async def start_worker(
    database_url: str, redis_url: str, smtp: SmtpServer
) -> AsyncIterator[StartWorker]:
    """Starts an in-process worker (settings overridable); all are stopped at teardown."""
    async with AsyncExitStack() as stack:

        async def start(**overrides: Any) -> EmbeddedWorker:
            settings = worker_settings(database_url, redis_url, smtp, **overrides)
            return await stack.enter_async_context(running_worker(settings, database_url))

        yield start


@pytest.fixture
def spawn_worker(
    database_url: str, redis_url: str, smtp: SmtpServer, tmp_path: Path
) -> Iterator[SpawnWorker]:
    """Starts `python -m api.cli worker` processes; all are stopped at teardown."""
    processes: list[WorkerProcess] = []
    # Shared by every worker of the test, as in a deployment (email tokens derive from it).
    secret = secrets.token_urlsafe(48)

    async def spawn(**environment: str) -> WorkerProcess:
        env = worker_environment(database_url, redis_url, smtp, JWT_SECRET=secret, **environment)
        process = WorkerProcess(tmp_path / f"worker-{len(processes) + 1}.log", env)
        processes.append(process)
        await process.wait_started()
        return process

    yield spawn
    for process in reversed(processes):
        process.stop()
