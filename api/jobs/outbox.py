"""The transactional outbox: background work is a row written with the change.

`enqueue` adds the row inside the caller's unit of work and, once it commits,
hands it to the job queue right away. `relay` hands over whatever is still
pending (the queue was down, or a job was lost) and runs periodically in the
worker. Rows of rolled-back transactions never exist, so they are never run."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.jobs.runner import Jobs
from api.unit_of_work import UnitOfWork
from db.models import OutboxMessage

log = logging.getLogger("glassshop.outbox")

PENDING, DONE = "pending", "done"
RELAY_BATCH = 100


def enqueue(uow: UnitOfWork, jobs: Jobs, kind: str, payload: dict[str, Any]) -> uuid.UUID:
    message = OutboxMessage(kind=kind, payload=payload)
    uow.db.add(message)
    uow.after_commit(lambda: _hand_over_now(uow, jobs, message.id))
    return message.id


async def _mark(db: AsyncSession, ids: list[uuid.UUID], at: datetime | None) -> None:
    values: dict[str, Any] = {"enqueued_at": at}
    if at is not None:
        values["attempts"] = OutboxMessage.attempts + 1
    await db.exec(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(**values))


async def _hand_over_now(uow: UnitOfWork, jobs: Jobs, message_id: uuid.UUID) -> None:
    # Marked (and committed) before it is sent: a job must never find its row still
    # locked by the one handing it over.
    await _mark(uow.db, [message_id], datetime.now(UTC))
    await uow.db.commit()
    try:
        await jobs.send_async(message_id)
    except Exception:
        # Still pending: unmarked, the relay hands it over on its next tick.
        log.warning("job queue unavailable; outbox message %s waits for the relay", message_id)
        await _mark(uow.db, [message_id], None)
        await uow.db.commit()


async def relay(
    database: async_sessionmaker[AsyncSession], jobs: Jobs, *, redeliver_after: timedelta
) -> int:
    """Hand pending rows (never handed over, or handed over too long ago) to the queue."""
    now = datetime.now(UTC)
    async with database() as db:
        rows = (
            await db.exec(
                select(OutboxMessage.id)
                .where(col(OutboxMessage.status) == PENDING)
                .where(
                    or_(
                        col(OutboxMessage.enqueued_at).is_(None),
                        col(OutboxMessage.enqueued_at) < now - redeliver_after,
                    )
                )
                .order_by(col(OutboxMessage.created_at))
                .limit(RELAY_BATCH)
                # Two relays never hand over the same row at once.
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0
        # Claimed and committed first, so the jobs never wait for this transaction.
        await _mark(db, list(rows), now)
        await db.commit()
        for sent, message_id in enumerate(rows):
            try:
                await jobs.send_async(message_id)
            except Exception:
                await _mark(db, list(rows[sent:]), None)  # the queue is down: retry later
                await db.commit()
                raise
    return len(rows)


async def purge_done(database: async_sessionmaker[AsyncSession], older_than: timedelta) -> int:
    cutoff = datetime.now(UTC) - older_than
    async with database() as db, db.begin():
        result = await db.exec(
            delete(OutboxMessage)
            .where(col(OutboxMessage.status) == DONE)
            .where(col(OutboxMessage.processed_at) < cutoff)
        )
    return int(getattr(result, "rowcount", 0) or 0)
