"""Starts `glassshop serve` and `glassshop worker` for a soak, and reads a process's RSS.

Both run from this installation (`python -m api.cli`), against the DATABASE_URL and
REDIS_URL given, with rate limits off and argon2id at OWASP's floor (2 passes, 19 MiB,
parallelism 1), so that the soak measures the service, not the password hash."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Every setting the soak pins; the caller's environment supplies nothing else of ours.
SOAK_SETTINGS = {
    "APP_ENV": "test",
    "RATE_LIMITS": "off",
    "ARGON2_TIME_COST": "2",
    "ARGON2_MEMORY_COST_KIB": "19456",
    "ARGON2_PARALLELISM": "1",
    "ACCESS_TOKEN_TTL": "3600",
    "LOG_LEVEL": "WARNING",
    "OUTBOX_RELAY_INTERVAL": "1",
    "PYTHONUNBUFFERED": "1",
}


def rss_kib(pid: int) -> int | None:
    """VmRSS of `pid` in KiB, from /proc (None once the process is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Launched:
    """The API server and worker processes a soak started (stopped by `stop`)."""

    url: str
    server: subprocess.Popen[bytes]
    environment: dict[str, str]
    worker: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)

    def create_staff(self, email: str, password: str) -> None:
        subprocess.run(  # noqa: S603 (this installation's own command)
            [sys.executable, "-m", "api.cli", "create-staff", "--email", email],
            input=password.encode(),
            cwd=PROJECT_ROOT,
            env=self.environment,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def exited(self) -> list[str]:
        """The launched processes that are no longer running."""
        processes = (("server", self.server), ("worker", self.worker))
        return [name for name, p in processes if p is not None and p.poll() is not None]

    def stop(self) -> None:
        processes = [p for p in (self.worker, self.server) if p is not None]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _environment(database_url: str, redis_url: str, data_dir: Path) -> dict[str, str]:
    prefixes = ("GLASSSHOP_", "DATABASE_", "REDIS_", "SMTP_", "OTEL_", "SENTRY_")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {
        **inherited,
        **SOAK_SETTINGS,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "JWT_SECRET": secrets.token_urlsafe(48),
        # No SMTP server: the worker writes each email to a folder of this run.
        "GLASSSHOP_DATA_DIR": str(data_dir),
    }


def launch(database_url: str, redis_url: str, out_dir: Path, *, within: float = 60) -> Launched:
    environment = _environment(database_url, redis_url, out_dir / "data")
    port = free_port()
    url = f"http://127.0.0.1:{port}/graphql"

    def start(name: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log_path = out_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 (this installation's own command)
                [sys.executable, "-m", "api.cli", *args],
                cwd=PROJECT_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return process, log_path

    # The server migrates the database before it listens; the worker starts after that.
    server, server_log = start("server", "serve", "--host", "127.0.0.1", "--port", str(port))
    launched = Launched(url, server, environment, logs=[server_log])
    deadline = time.monotonic() + within
    while True:
        if server.poll() is not None:
            launched.stop()
            raise RuntimeError(f"the server exited; see {server_log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            launched.stop()
            raise RuntimeError(f"the server was not ready within {within}s; see {server_log}")
        time.sleep(0.2)
    launched.worker, worker_log = start("worker", "worker")
    launched.logs.append(worker_log)
    return launched
