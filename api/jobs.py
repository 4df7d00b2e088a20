"""Background jobs: one dramatiq actor runs outbox messages by kind.

Handlers are plain async functions registered with `@handles(kind)` by the domains
(schema/*/tasks.py). A job takes an outbox id, locks the row, runs its handler in
the same transaction and marks the row done, so a job delivered twice runs once
in effect; a failed job is retried by dramatiq and, failing that, by the relay."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware.asyncio import AsyncIO
from sqlalchemy import update
from sqlmodel import col, select

from api.mailer import Mailer
from api.request_meta import RequestMeta
from api.settings import Settings
from api.unit_of_work import UnitOfWork
from db.models import OutboxMessage

log = logging.getLogger("glassshop.jobs")

QUEUE = "glassshop"
ACTOR = "process_outbox"


@dataclass(slots=True)
class JobEnv:
    """What a handler may use; built once per worker event loop."""

    settings: Settings
    sessions: Any  # async_sessionmaker of the worker's own engine
    mailer: Mailer


Handler = Callable[[UnitOfWork, JobEnv, OutboxMessage], Awaitable[None]]
_handlers: dict[str, Handler] = {}


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _handlers[kind] = handler
        return handler

    return register


async def run_message(env: JobEnv, message_id: uuid.UUID) -> str:
    """Run one outbox message; returns what happened (for logs and tests)."""
    meta = RequestMeta(
        ip_address=None, user_agent="glassshop-worker", request_id=f"job-{message_id}"
    )
    uow = UnitOfWork(env.sessions, meta)
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
                return "skipped"
            if row.status == "done":
                return "already-done"
            handler = _handlers.get(row.kind)
            if handler is None:
                raise LookupError(f"no handler for outbox kind {row.kind!r}")
            await handler(uow, env, row)
            row.status = "done"
            row.processed_at = datetime.now(UTC)
            row.last_error = None
            uow.db.add(row)
        return "done"
    except Exception as exc:
        await _record_failure(env, message_id, exc)
        raise
    finally:
        await uow.close()


async def _record_failure(env: JobEnv, message_id: uuid.UUID, exc: Exception) -> None:
    async with env.sessions() as db, db.begin():
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
    outcome = await run_message(_env, uuid.UUID(message_id))
    log.info("outbox message %s: %s", message_id, outcome)


@dataclass(slots=True)
class Jobs:
    broker: dramatiq.Broker
    actor: dramatiq.Actor[[str], None]

    def send(self, message_id: uuid.UUID) -> None:
        self.actor.send(str(message_id))

    async def send_async(self, message_id: uuid.UUID) -> None:
        # The broker's client blocks: keep it off the event loop.
        await asyncio.to_thread(self.send, message_id)


def create_jobs(settings: Settings) -> Jobs:
    broker: dramatiq.Broker
    if settings.redis_url:
        broker = RedisBroker(url=settings.redis_url, namespace="glassshop-jobs")  # type: ignore[no-untyped-call]
    else:
        # Development without Redis: the API process runs the jobs itself.
        broker = StubBroker()
    broker.add_middleware(AsyncIO())
    declare = dramatiq.actor(
        broker=broker,
        actor_name=ACTOR,
        queue_name=QUEUE,
        max_retries=20,
        min_backoff=1_000,
        max_backoff=300_000,
    )
    return Jobs(broker, declare(_process_outbox))
