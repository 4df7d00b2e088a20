"""One unit of work per operation: a DB session, its transaction, and what to do
after it commits (publish revocations, drop cache keys, enqueue jobs).

Services receive a UnitOfWork and never commit; the caller opens `transaction()`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import AppError
from api.identity import RequestMeta

log = logging.getLogger("glassshop.uow")

AfterCommit = Callable[[], Awaitable[None]]
PublishAudit = Callable[[list[Any]], Awaitable[None]]


class UnitOfWork:
    def __init__(
        self,
        database: async_sessionmaker[AsyncSession],
        meta: RequestMeta,
        *,
        publish_audit: PublishAudit | None = None,
    ) -> None:
        self._database = database
        self.meta = meta
        self._publish_audit = publish_audit
        # Audit rows written in the current transaction, published once it commits.
        self.audit_entries: list[Any] = []
        self._db: AsyncSession | None = None
        self._closed = False
        self._after_commit: list[AfterCommit] = []

    def fresh(self) -> UnitOfWork:
        """A new unit of work for the same caller: the next operation's."""
        return UnitOfWork(self._database, self.meta, publish_audit=self._publish_audit)

    @property
    def db(self) -> AsyncSession:
        """The one database session of this request, opened on first use."""
        if self._db is None:
            if self._closed:
                # A resolver abandoned by the executor (a sibling failed) must not reopen it.
                raise RuntimeError("the request's database session is closed")
            self._db = self._database()
        return self._db

    def after_commit(self, callback: AfterCommit) -> None:
        self._after_commit.append(callback)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[UnitOfWork]:
        """Everything written inside commits together or not at all. An AppError with
        keep_changes (a failed login's audit row) commits what was written, then propagates."""
        try:
            yield self
        except AppError as error:
            if error.keep_changes:
                await self._commit()
            else:
                await self._rollback()
            raise
        except BaseException:
            await self._rollback()
            raise
        await self._commit()

    async def _commit(self) -> None:
        try:
            await self.db.commit()
        except BaseException:
            await self._rollback()
            raise
        callbacks, self._after_commit = self._after_commit, []
        entries, self.audit_entries = self.audit_entries, []
        publish = self._publish_audit
        if entries and publish is not None:
            callbacks.append(lambda: publish(entries))
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                # The change is committed; a failed side effect must not report it as failed.
                log.exception("after-commit callback failed")

    async def _rollback(self) -> None:
        self._after_commit.clear()
        self.audit_entries.clear()
        if self._db is not None:
            await self._db.rollback()

    async def release(self) -> None:
        """End the session (and its transaction) but allow a new one: for long-lived
        operations such as subscriptions, which must not hold a connection idle."""
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def close(self) -> None:
        self._closed = True
        if self._db is not None:
            await self._db.close()
            self._db = None
