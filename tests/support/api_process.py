"""The API as a real process: `python -m api.cli serve` on a free loopback port.

For the tests about several instances and about signals, which an in-process server
cannot show: each process has its own memory (caches, in-process fallbacks), pool and
event loop, and receives SIGTERM like a container does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from api.settings import PROJECT_ROOT
from tests.support.worker import _settings_variables, wait_until

START_SECONDS = 60.0
STOP_SECONDS = 40.0  # uvicorn's graceful shutdown is 30 s (api/cli.py)
PORT_ATTEMPTS = 3


def api_environment(
    database_url: str, redis_url: str, jwt_secret: str, **extra: str
) -> dict[str, str]:
    """What every test instance shares (one database, one Redis, one signing key), with
    argon2 at OWASP's minimum as in tests/conftest.make_settings."""
    return {
        "APP_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": jwt_secret,
        "ARGON2_TIME_COST": "2",
        "ARGON2_MEMORY_COST_KIB": str(19 * 1024),
        "ARGON2_PARALLELISM": "1",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "text",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ApiProcess:
    """One `glassshop serve` process, its output in a log file."""

    def __init__(self, log_path: Path, environment: dict[str, str]) -> None:
        self.log_path = log_path
        self._environment = environment
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def returncode(self) -> int | None:
        assert self.process is not None
        return self.process.poll()

    async def start(self) -> None:
        """Start and wait until /healthz answers; a port taken meanwhile is retried."""
        for _attempt in range(PORT_ATTEMPTS):
            self._spawn(_free_loopback_port())
            try:
                await wait_until(self._healthy, within=START_SECONDS, interval=0.1, what="healthz")
                return
            except _PortTaken:
                continue
        raise AssertionError(f"the API did not start:\n{self.log()}")

    def _spawn(self, port: int) -> None:
        self.port = port
        inherited = {k: v for k, v in os.environ.items() if k not in _settings_variables()}
        command = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--port", str(port)],
                cwd=PROJECT_ROOT,
                env={**inherited, **self._environment},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            if "address already in use" in self.log().lower():
                raise _PortTaken
            raise AssertionError(f"the API exited ({self.process.returncode}):\n{self.log()}")
        try:
            async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as http:
                return (await http.get("/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    def terminate(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM (or SIGINT, Ctrl+C): stop accepting, finish what is in flight, exit."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, within: float = STOP_SECONDS) -> int:
        assert self.process is not None
        return self.process.wait(timeout=within)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within the grace period."""
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@asynccontextmanager
async def running_api(log_path: Path, environment: dict[str, str]) -> AsyncIterator[ApiProcess]:
    """An ApiProcess, started (healthy) on entry and stopped on exit."""
    process = ApiProcess(log_path, environment)
    try:
        await process.start()
        yield process
    finally:
        process.stop()


class _PortTaken(Exception):
    pass
