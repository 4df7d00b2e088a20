"""Engine and session factory. Callers own the transaction; nothing here commits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    statement_timeout_ms: int = 15_000,
) -> AsyncEngine:
    server_settings = {"application_name": "glassshop"}
    if statement_timeout_ms:
        # A runaway query fails instead of holding a connection forever.
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"server_settings": server_settings, "timeout": 10},
    )


class _TaskReentrantLock:
    """An asyncio lock that the task holding it may take again (AsyncSession.scalar
    calls execute, both of which are serialised)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if task is not None and self._owner is task:
            yield
            return
        async with self._lock:
            self._owner = task
            try:
                yield
            finally:
                self._owner = None


def _serialised(name: str) -> Any:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        async with self._glassshop_lock.hold():
            return await getattr(super(SerialisedSession, self), name)(*args, **kwargs)

    method.__name__ = name
    return method


if TYPE_CHECKING:
    SerialisedSession = AsyncSession
else:

    class SerialisedSession(AsyncSession):
        """An AsyncSession whose operations take turns.

        GraphQL resolves sibling fields concurrently, and one request has one session;
        an AsyncSession must not be used by two tasks at once, so each call waits for
        the previous one instead of failing."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._glassshop_lock = _TaskReentrantLock()

        for _name in (
            "exec",
            "execute",
            "scalar",
            "scalars",
            "get",
            "flush",
            "refresh",
            "commit",
            "rollback",
            "close",
        ):
            locals()[_name] = _serialised(_name)
        del _name


def create_db_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without lazy loads,
    # which async SQLAlchemy cannot do implicitly.
    return async_sessionmaker(
        engine, class_=SerialisedSession, expire_on_commit=False, autoflush=False
    )
