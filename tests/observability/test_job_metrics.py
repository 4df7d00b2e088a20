"""Worker job outcomes: each attempt is counted by outbox kind and outcome, with its duration,
in the registry of the process that runs the job (the `glassshop worker` process serves its
own on WORKER_METRICS_PORT; the worker embedded in the API process shows on /metrics)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.app import create_app
from api.jobs.runner import create_jobs
from api.jobs.worker import EmbeddedWorker
from schema.accounts.tasks import WELCOME
from tests.observability.test_metrics import scrape
from tests.support.graphql import GraphQLClient
from tests.support.smtp import SmtpServer, smtp_server
from tests.support.worker import (
    WorkerProcess,
    running_worker,
    wait_until,
    wait_until_outbox_done,
    worker_environment,
    worker_settings,
)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def worker(
    database_url: str, redis_url: str, smtp: SmtpServer
) -> AsyncIterator[EmbeddedWorker]:
    settings = worker_settings(database_url, redis_url, smtp)
    async with running_worker(settings, database_url) as running:
        yield running


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_for_count(worker: EmbeddedWorker, kind: str, outcome: str, count: int) -> None:
    async def counted() -> bool:
        return worker.metrics.count(kind, outcome) >= count

    await wait_until(counted, what=f"{count} {outcome} job(s) of kind {kind}")


async def test_a_sent_email_counts_one_done_job_of_its_kind(
    client: GraphQLClient, worker: EmbeddedWorker, smtp: SmtpServer, engine: AsyncEngine
) -> None:
    await client.register("ada@example.com")
    await smtp.capture.wait_for_one("ada@example.com")
    await wait_until_outbox_done(engine, 1)

    await wait_for_count(worker, WELCOME, "done", 1)
    assert worker.metrics.count(WELCOME, "done") == 1
    assert worker.metrics.count(WELCOME, "failed") == 0


async def test_a_job_duration_is_observed_for_its_kind(
    client: GraphQLClient, worker: EmbeddedWorker, smtp: SmtpServer
) -> None:
    await client.register("ada@example.com")
    await smtp.capture.wait_for_one("ada@example.com")
    await wait_for_count(worker, WELCOME, "done", 1)

    samples = {
        sample.name: sample.value
        for family in worker.metrics.duration.collect()
        for sample in family.samples
        if sample.labels.get("kind") == WELCOME
    }
    assert samples["glassshop_job_seconds_count"] == 1
    assert samples["glassshop_job_seconds_sum"] > 0


async def test_an_smtp_failure_counts_a_failed_attempt_then_the_retry_is_done(
    client: GraphQLClient, worker: EmbeddedWorker, smtp: SmtpServer, engine: AsyncEngine
) -> None:
    smtp.capture.fail_next_quit()

    await client.register("ada@example.com")
    await wait_until_outbox_done(engine, 1)
    await wait_for_count(worker, WELCOME, "done", 1)

    assert worker.metrics.count(WELCOME, "failed") == 1
    assert worker.metrics.count(WELCOME, "done") == 1


async def test_a_second_delivery_of_a_done_job_counts_as_a_duplicate(
    client: GraphQLClient,
    worker: EmbeddedWorker,
    smtp: SmtpServer,
    engine: AsyncEngine,
    database_url: str,
    redis_url: str,
) -> None:
    await client.register("ada@example.com")
    [row] = await wait_until_outbox_done(engine, 1)

    sender = create_jobs(worker_settings(database_url, redis_url, smtp))
    try:
        sender.send(row.id)
        await wait_for_count(worker, WELCOME, "duplicate", 1)
    finally:
        sender.broker.close()

    assert worker.metrics.count(WELCOME, "done") == 1
    assert len(smtp.capture.to("ada@example.com")) == 1


async def test_a_job_that_exhausts_its_retries_counts_as_dead(
    worker: EmbeddedWorker,
    smtp: SmtpServer,
    engine: AsyncEngine,
    database_url: str,
    redis_url: str,
) -> None:
    # A row no handler knows, handed over just now (so the relay leaves it alone), sent
    # with no retries allowed: its one attempt fails and dramatiq gives up on it.
    message_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO outbox_messages "
                "(id, kind, payload, status, attempts, enqueued_at, created_at, updated_at) "
                "VALUES (:id, 'test.unknown', '{}', 'pending', 1, now(), now(), now())"
            ),
            {"id": message_id},
        )
    sender = create_jobs(worker_settings(database_url, redis_url, smtp))
    try:
        sender.actor.send_with_options(args=(str(message_id),), max_retries=0)
        await wait_for_count(worker, "test.unknown", "dead", 1)
    finally:
        sender.broker.close()

    assert worker.metrics.count("test.unknown", "failed") == 0


async def test_the_worker_process_serves_its_job_metrics_when_enabled(
    client: GraphQLClient,
    smtp: SmtpServer,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    port = free_port()
    environment = worker_environment(database_url, redis_url, smtp, WORKER_METRICS_PORT=str(port))
    process = WorkerProcess(tmp_path / "worker.log", environment)
    try:
        await process.wait_started()
        await client.register("ada@example.com")
        await smtp.capture.wait_for_one("ada@example.com")

        done = f'glassshop_jobs_total{{kind="{WELCOME}",outcome="done"}} 1.0'
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def reported() -> bool:
                return done in (await http.get("/metrics")).text

            await wait_until(reported, what="the worker process reporting the done job")
            body = (await http.get("/metrics")).text
    finally:
        process.stop()

    assert "process_resident_memory_bytes" in body
    assert "glassshop_job_seconds_bucket" in body


async def test_the_worker_process_serves_no_metrics_by_default(
    smtp: SmtpServer, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    process = WorkerProcess(
        tmp_path / "worker.log", worker_environment(database_url, redis_url, smtp)
    )
    try:
        await process.wait_started()
        log = process.log()
    finally:
        process.stop()

    assert "worker metrics on" not in log


async def test_the_embedded_worker_counts_its_jobs_on_the_api_metrics(
    database_url: str, smtp: SmtpServer
) -> None:
    # Without REDIS_URL the API process runs the jobs itself (development).
    settings = worker_settings(database_url, "", smtp).model_copy(update={"redis_url": None})
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            await GraphQLClient(http).register("ada@example.com")
        await smtp.capture.wait_for_one("ada@example.com")
        done = f'glassshop_jobs_total{{kind="{WELCOME}",outcome="done"}} 1.0'

        async def reported() -> bool:
            return done in (await scrape(app)).text

        await wait_until(reported, what="the API's /metrics reporting the done job")
