"""`glassshop serve` in a source checkout builds the web client when its build is missing.

Only in development (`make run`), only for the checkout's own client/dist, and only
with Node.js on PATH: test runs build the client themselves, and the container image
brings a build and no Node.js. Whatever happens, the API is served: a client that
cannot be built is one log line, not a crash."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.http.spa import has_client
from api.settings import PROJECT_ROOT, Settings

log = logging.getLogger("glassshop.client")

CLIENT_DIR = PROJECT_ROOT / "client"
INSTALL_TIMEOUT_SECONDS = 900
BUILD_TIMEOUT_SECONDS = 600
# The end of npm's output that a failure log line carries.
OUTPUT_TAIL_CHARS = 4000


@dataclass(frozen=True)
class ClientBuild:
    """What ensure_client_built did: whether it built the client, and why not."""

    built: bool
    reason: str


def skip_reason(settings: Settings, client_dir: Path, search_path: str | None) -> str | None:
    """Why the client is not to be built now (one line), or None: build it."""
    if settings.app_env != "development":
        return (
            f"The web client is not built by `glassshop serve` with APP_ENV={settings.app_env}: "
            f"build it with `npm ci && npm run build` in client/, or set CLIENT_DIST_DIR"
        )
    if settings.client_dist_dir.resolve() != (client_dir / "dist").resolve():
        return (
            f"The web client is not built: CLIENT_DIST_DIR ({settings.client_dist_dir}) "
            f"is not the build directory of {client_dir}"
        )
    if not (client_dir / "package.json").is_file():
        return f"The web client is not built: {client_dir} has no package.json"
    if not (shutil.which("node", path=search_path) and shutil.which("npm", path=search_path)):
        return "The web client is not built: Node.js (node and npm) is not on PATH"
    return None


def ensure_client_built(
    settings: Settings, *, client_dir: Path = CLIENT_DIR, search_path: str | None = None
) -> ClientBuild:
    """Build the client in `client_dir` (`npm ci` when node_modules is missing, then
    `npm run build`) when CLIENT_DIST_DIR has no index.html and it can be built.
    `search_path` is where node and npm are looked for (PATH by default)."""
    if has_client(settings.client_dist_dir):
        return ClientBuild(built=False, reason="already built")
    reason = skip_reason(settings, client_dir, search_path)
    if reason is not None:
        log.info("%s; serving the API only", reason)
        return ClientBuild(built=False, reason=reason)
    npm = shutil.which("npm", path=search_path)
    assert npm is not None, "skip_reason checked"
    with client_build_lock(client_dir):
        # Another process on this checkout may have built it while this one waited.
        if has_client(settings.client_dist_dir):
            return ClientBuild(built=False, reason="built by another process")
        started = time.monotonic()
        steps: list[tuple[str, ...]] = []
        if not (client_dir / "node_modules").is_dir():
            steps.append(("ci", "--no-audit", "--no-fund"))
        steps.append(("run", "build"))
        for step in steps:
            failure = _npm(npm, step, client_dir)
            if failure is not None:
                log.error("%s; serving the API only", failure)
                return ClientBuild(built=False, reason=failure)
    if not has_client(settings.client_dist_dir):
        reason = f"`npm run build` wrote no index.html in {settings.client_dist_dir}"
        log.error("%s; serving the API only", reason)
        return ClientBuild(built=False, reason=reason)
    log.info("Built the web client in %.1fs", time.monotonic() - started)
    return ClientBuild(built=True, reason="built")


def _npm(npm: str, args: tuple[str, ...], client_dir: Path) -> str | None:
    """Run `npm ARGS` in client_dir; None when it succeeds, else what went wrong."""
    command = f"npm {' '.join(args)}"
    log.info("Building the web client: %s in %s", command, client_dir)
    timeout = INSTALL_TIMEOUT_SECONDS if args[0] == "ci" else BUILD_TIMEOUT_SECONDS
    try:
        result = subprocess.run(  # noqa: S603 (npm from PATH, fixed arguments)
            [npm, *args],
            cwd=client_dir,
            env={**os.environ, "FORCE_COLOR": "0", "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"Building the web client failed: `{command}` took more than {timeout}s"
    except OSError as error:
        return f"Building the web client failed: `{command}` could not run ({error})"
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-OUTPUT_TAIL_CHARS:]
        return f"Building the web client failed: `{command}` exited {result.returncode}\n{output}"
    return None


@contextmanager
def client_build_lock(client_dir: Path) -> Iterator[None]:
    """One install or build of a checkout's client at a time, across processes: the
    tests' client helper (tests/support/client_build.py) takes it too, so a server
    started during a test run does not build at the same time as the tests."""
    tag = hashlib.sha256(str(client_dir.resolve()).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"glassshop-client-{tag}.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
