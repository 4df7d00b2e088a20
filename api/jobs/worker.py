"""The worker: dramatiq runs the outbox jobs; a maintenance loop relays and cleans up.

`glassshop worker` runs it as its own process (production: REDIS_URL is the broker).
In development without REDIS_URL the API process embeds it (see api/app.py)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from types import FrameType

import dramatiq
from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server

from api.infra.mailer import Mailer
from api.infra.metrics import JobMetrics
from api.jobs.maintenance import run_forever
from api.jobs.runner import JobEnv, Jobs, create_jobs, set_job_env_factory
from api.settings import Settings
from db.engine import create_db_factory, create_engine

log = logging.getLogger("glassshop.worker")


def register_handlers() -> None:
    # The worker entry is one of the two places that import the GraphQL layer's modules.
    import schema.accounts.tasks  # noqa: F401


def job_env_factory(settings: Settings, database_url: str, metrics: JobMetrics) -> JobEnv:
    engine = create_engine(database_url, pool_size=settings.worker_threads, max_overflow=2)
    return JobEnv(
        settings=settings,
        database=create_db_factory(engine),
        mailer=Mailer(settings),
        metrics=metrics,
    )


class EmbeddedWorker:
    """A dramatiq worker plus the maintenance loop, in threads of the current process."""

    def __init__(self, settings: Settings, database_url: str, jobs: Jobs) -> None:
        register_handlers()
        set_job_env_factory(lambda: job_env_factory(settings, database_url, jobs.metrics))
        self._settings = settings
        self._database_url = database_url
        self._jobs = jobs
        self._worker = dramatiq.Worker(jobs.broker, worker_threads=settings.worker_threads)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._maintain, name="maintenance", daemon=True)

    @property
    def metrics(self) -> JobMetrics:
        """The outcomes of the jobs this worker ran."""
        return self._jobs.metrics

    def start(self) -> None:
        self._worker.start()
        self._thread.start()
        self._ready.wait(timeout=10)
        log.info("worker started (%d threads)", self._settings.worker_threads)

    def stop(self, timeout_ms: int = 30_000) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        # Finishes the jobs in progress; unstarted ones stay queued (or pending in the outbox).
        self._worker.stop(timeout=timeout_ms)

    def _maintain(self) -> None:
        async def main() -> None:
            engine = create_engine(self._database_url, pool_size=1, max_overflow=1)
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            try:
                await run_forever(create_db_factory(engine), self._jobs, self._settings, self._stop)
            finally:
                await engine.dispose()

        asyncio.run(main())


def serve_metrics(settings: Settings, metrics: JobMetrics) -> None:
    """This process's own registry (jobs, plus CPU and memory) on WORKER_METRICS_PORT."""
    if settings.worker_metrics_port is None:
        return
    registry = CollectorRegistry()
    metrics.register(registry)
    ProcessCollector(registry=registry)
    start_http_server(
        settings.worker_metrics_port, addr=settings.worker_metrics_host, registry=registry
    )
    log.info(
        "worker metrics on http://%s:%d/metrics",
        settings.worker_metrics_host,
        settings.worker_metrics_port,
    )


def run_worker(settings: Settings, database_url: str) -> int:
    jobs = create_jobs(settings)
    serve_metrics(settings, jobs.metrics)
    worker = EmbeddedWorker(settings, database_url, jobs)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("signal %d: finishing jobs in progress, then stopping", signum)
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    done.wait()
    worker.stop()
    jobs.broker.close()
    return 0
