"""Background jobs: one dramatiq actor runs outbox messages by kind.

Handlers are plain async functions registered with `@handles(kind)` by the domains
(schema/*/tasks.py). A job takes an outbox id, locks the row, runs its handler in
the same transaction and marks the row done, so a job delivered twice runs once
in effect; a failed job is retried by dramatiq and, failing that, by the relay.

Every attempt's outcome and duration are counted by kind (api/infra/metrics.py JobMetrics)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware
from dramatiq.middleware.asyncio import AsyncIO
from sqlalchemy import update
from sqlmodel import col, select

from api.identity import RequestMeta
from api.infra.mailer import Mailer
from api.infra.metrics import JobMetrics
from api.settings import Settings
from api.unit_of_work import UnitOfWork
from db.models import OutboxMessage

log = logging.getLogger("glassshop.jobs")

QUEUE = "glassshop"
ACTOR = "process_outbox"
MAX_RETRIES = 20


@dataclass(slots=True)
class JobEnv:
    """What a handler may use; built once per worker event loop."""

    settings: Settings
    database: Any  # async_sessionmaker of the worker's own engine
    mailer: Mailer
    metrics: JobMetrics


Handler = Callable[[UnitOfWork, JobEnv, OutboxMessage], Awaitable[None]]
_handlers: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _handlers[kind] = handler
        return handler

    return register


@dataclass(frozen=True, slots=True)
class JobResult:
    """What one attempt came to (an outcome of api.infra.metrics.JOB_OUTCOMES but failed/dead)."""

    kind: str
    outcome: str
    seconds: float


class JobFailed(Exception):
    """An attempt failed (its cause is chained); carries the kind and duration to count."""

    def __init__(self, kind: str, seconds: float) -> None:
        super().__init__(f"outbox job of kind {kind!r} failed")
        self.kind = kind
        self.seconds = seconds


async def run_message(env: JobEnv, message_id: uuid.UUID) -> JobResult:
    """Run one outbox message; returns what happened (for logs, metrics and tests)."""
    meta = RequestMeta(
        ip_address=None, user_agent="glassshop-worker", request_id=f"job-{message_id}"
    )
    uow = UnitOfWork(env.database, meta)
    started = time.perf_counter()
    kind = "unknown"

    def result(outcome: str) -> JobResult:
        return JobResult(kind, outcome, time.perf_counter() - started)

    try:
        async with uow.transaction():
            row = (
                await uow.db.exec(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.id) == message_id)
                    # A duplicate delivery waits here, then finds the row done.
                    .with_for_update()
                )
            ).first()
            if row is None:
                return result("missing")
            kind = row.kind
            if row.status == "done":
                return result("duplicate")
            handler = _handlers.get(row.kind)
            if handler is None:
                raise LookupError(f"no handler for outbox kind {row.kind!r}")
            await handler(uow, env, row)
            row.status = "done"
            row.processed_at = datetime.now(UTC)
            row.last_error = None
            uow.db.add(row)
        return result("done")
    except Exception as exc:
        await _record_failure(env, message_id, exc)
        raise JobFailed(kind, time.perf_counter() - started) from exc
    finally:
        await uow.close()


async def _record_failure(env: JobEnv, message_id: uuid.UUID, exc: Exception) -> None:
    async with env.database() as db, db.begin():
        await db.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id)
            .values(last_error=f"{type(exc).__name__}: {exc}"[:500])
        )


# The worker's JobEnv, created lazily on the event loop that runs the actors
# (asyncpg connections belong to the loop that opened them).
_env_factory: Callable[[], JobEnv] | None = None
_env: JobEnv | None = None


def set_job_env_factory(factory: Callable[[], JobEnv]) -> None:
    global _env_factory, _env
    _env_factory, _env = factory, None


async def _process_outbox(message_id: str) -> None:
    global _env
    if _env is None:
        if _env_factory is None:
            raise RuntimeError("this process does not run jobs")
        _env = _env_factory()
    result = await run_message(_env, uuid.UUID(message_id))
    _env.metrics.observe(result.kind, result.outcome, result.seconds)
    log.info("outbox message %s: %s", message_id, result.outcome)


class JobOutcomes(Middleware):
    """Counts the failed attempts: "dead" when dramatiq gives up, "failed" otherwise (the
    attempts that succeed are counted by the actor itself).

    dramatiq runs the `after_*` hooks in reverse order, so this one (added last) sees a
    failure before Retries does, and decides "dead" exactly as Retries is about to."""

    def __init__(self, metrics: JobMetrics) -> None:
        self.metrics = metrics

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None:
            return
        kind, seconds = "unknown", 0.0
        if isinstance(exception, JobFailed):
            kind, seconds = exception.kind, exception.seconds
        actor = broker.get_actor(message.actor_name)
        max_retries = message.options.get("max_retries", actor.options.get("max_retries"))
        retries = message.options.get("retries", 0)
        dead = max_retries is not None and retries >= max_retries
        self.metrics.observe(kind, "dead" if dead else "failed", seconds)


@dataclass(slots=True)
class Jobs:
    broker: dramatiq.Broker
    actor: dramatiq.Actor[[str], None]
    metrics: JobMetrics

    def send(self, message_id: uuid.UUID) -> None:
        self.actor.send(str(message_id))

    async def send_async(self, message_id: uuid.UUID) -> None:
        # The broker's client blocks: keep it off the event loop.
        await asyncio.to_thread(self.send, message_id)


def create_jobs(settings: Settings) -> Jobs:
    """The broker and actor; the jobs this process runs are counted in `Jobs.metrics`."""
    metrics = JobMetrics()
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(url=settings.redis_url, namespace="glassshop-jobs")  # type: ignore[no-untyped-call]
    else:
        # Development without Redis: the API process runs the jobs itself.
        broker = StubBroker()
    broker.add_middleware(AsyncIO())
    broker.add_middleware(JobOutcomes(metrics))
    declare = dramatiq.actor(
        broker=broker,
        actor_name=ACTOR,
        queue_name=QUEUE,
        max_retries=MAX_RETRIES,
        min_backoff=1_000,
        max_backoff=300_000,
    )
    return Jobs(broker, declare(_process_outbox), metrics)
