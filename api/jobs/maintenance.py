"""Periodic upkeep run by the worker: the outbox relay and the cleanup of expired rows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, delete, or_
from sqlmodel.ext.asyncio.session import AsyncSession

from api.jobs.outbox import purge_done, relay
from api.jobs.runner import Jobs
from api.settings import Settings
from db.models import AuthSession, EmailToken

log = logging.getLogger("glassshop.maintenance")

# Ended sessions stay visible (and auditable) this long before they are deleted.
SESSION_RETENTION = timedelta(days=30)


async def cleanup(database: async_sessionmaker[AsyncSession], settings: Settings) -> dict[str, int]:
    now = datetime.now(UTC)
    removed: dict[str, int] = {}
    async with database() as db, db.begin():
        ended = await db.exec(
            delete(AuthSession).where(
                or_(
                    col(AuthSession.expires_at) < now - SESSION_RETENTION,
                    col(AuthSession.revoked_at) < now - SESSION_RETENTION,
                )
            )
        )
        removed["sessions"] = int(getattr(ended, "rowcount", 0) or 0)
        tokens = await db.exec(
            delete(EmailToken).where(
                or_(col(EmailToken.expires_at) < now, col(EmailToken.used_at).is_not(None))
            )
        )
        removed["email_tokens"] = int(getattr(tokens, "rowcount", 0) or 0)
    removed["outbox"] = await purge_done(database, timedelta(days=settings.outbox_retention_days))
    return removed


async def run_forever(
    database: async_sessionmaker[AsyncSession],
    jobs: Jobs,
    settings: Settings,
    stop: asyncio.Event,
) -> None:
    redeliver = timedelta(seconds=settings.outbox_redeliver_seconds)
    next_cleanup = time.monotonic()
    while not stop.is_set():
        try:
            handed = await relay(database, jobs, redeliver_after=redeliver)
            if handed:
                log.info("relayed %d pending outbox message(s)", handed)
            if time.monotonic() >= next_cleanup:
                log.info("cleanup removed %s", await cleanup(database, settings))
                next_cleanup = time.monotonic() + settings.cleanup_interval_seconds
        except Exception:
            # The queue or the database is away: try again on the next tick.
            log.warning("maintenance tick failed; retrying", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.outbox_relay_interval_seconds)
