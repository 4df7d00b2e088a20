"""Running the real worker in tests: in this process (api.jobs.worker.EmbeddedWorker with the
real Redis broker) or as `python -m api.cli worker` in a subprocess that can be killed.

Also the outbox as the tests see it (rows read with SQL) and a bounded poll helper."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.jobs.runner import create_jobs
from api.jobs.worker import EmbeddedWorker
from api.settings import PROJECT_ROOT, Settings
from tests.conftest import make_settings
from tests.support.smtp import WAIT_SECONDS, SmtpServer

PUBLIC_URL = "https://shop.glassshop.test"


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    *,
    within: float = WAIT_SECONDS,
    interval: float = 0.05,
    what: str = "the condition",
) -> None:
    """Poll `condition` until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {within}s")
        await asyncio.sleep(interval)


# --- the outbox, read with SQL ---


@dataclass(frozen=True)
class OutboxRow:
    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    status: str
    attempts: int
    enqueued_at: Any
    processed_at: Any
    last_error: str | None


async def outbox_rows(engine: AsyncEngine, kind: str | None = None) -> list[OutboxRow]:
    sql = (
        "SELECT id, kind, payload, status, attempts, enqueued_at, processed_at, last_error "
        "FROM outbox_messages"
    )
    params: dict[str, Any] = {}
    if kind is not None:
        sql += " WHERE kind = :kind"
        params["kind"] = kind
    async with engine.connect() as connection:
        rows = await connection.execute(text(sql + " ORDER BY created_at, id"), params)
        return [OutboxRow(**row._mapping) for row in rows]


async def wait_until_outbox_done(
    engine: AsyncEngine, count: int, *, within: float = WAIT_SECONDS
) -> list[OutboxRow]:
    """Wait until there are `count` outbox rows and every one is done."""

    async def all_done() -> bool:
        rows = await outbox_rows(engine)
        return len(rows) == count and all(row.status == "done" for row in rows)

    try:
        await wait_until(all_done, within=within, what=f"{count} outbox row(s) done")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {await outbox_rows(engine)}") from None
    return await outbox_rows(engine)


async def wait_until_outbox_settled(engine: AsyncEngine, *, within: float = WAIT_SECONDS) -> None:
    """Wait until no outbox row is pending: every job so far has committed its work (an
    email goes out before its job commits, so its token may not be usable yet)."""

    async def settled() -> bool:
        return all(row.status == "done" for row in await outbox_rows(engine))

    await wait_until(settled, within=within, what="every outbox row done")


# --- the worker in this process ---


def worker_settings(
    database_url: str, redis_url: str, smtp: SmtpServer, **overrides: Any
) -> Settings:
    """The worker's settings: the tests' database and Redis, the capturing SMTP server."""
    values: dict[str, Any] = {
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_tls": "none",
        "smtp_timeout_seconds": 10.0,
        "public_url": PUBLIC_URL,
        "outbox_relay_interval_seconds": 0.2,
        "worker_threads": 2,
        **overrides,
    }
    return make_settings(database_url, redis_url, **values)


@asynccontextmanager
async def running_worker(settings: Settings, database_url: str) -> AsyncIterator[EmbeddedWorker]:
    """api.jobs.worker.EmbeddedWorker on its own broker (the real Redis), stopped on exit."""
    jobs = create_jobs(settings)
    worker = EmbeddedWorker(settings, database_url, jobs)
    await asyncio.to_thread(worker.start)
    try:
        yield worker
    finally:
        await asyncio.to_thread(worker.stop, 10_000)
        jobs.broker.close()


# --- the worker as its own process ---


def _settings_variables() -> set[str]:
    """Every environment variable Settings reads (so the caller's own are not inherited)."""
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias)
    return names


class WorkerProcess:
    """`python -m api.cli worker`, its output in a log file; kill() is SIGKILL."""

    def __init__(self, log_path: Path, environment: dict[str, str]) -> None:
        self.log_path = log_path
        inherited = {k: v for k, v in os.environ.items() if k not in _settings_variables()}
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"],
            cwd=PROJECT_ROOT,
            env={**inherited, **environment},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_started(self, within: float = WAIT_SECONDS) -> None:
        async def started() -> bool:
            assert self.process.poll() is None, f"the worker exited:\n{self.log()}"
            return "worker started" in self.log()

        await wait_until(started, within=within, what="the worker process started")

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a machine or container dies."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (finish the jobs in progress), then SIGKILL if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def worker_environment(
    database_url: str, redis_url: str, smtp: SmtpServer, **extra: str
) -> dict[str, str]:
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_TLS": "none",
        "SMTP_TIMEOUT": "10",
        "PUBLIC_URL": PUBLIC_URL,
        "OUTBOX_RELAY_INTERVAL": "0.2",
        "OUTBOX_REDELIVER_AFTER": "2",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
