"""The web client (client/) as the tests need it: its npm packages installed, its
production build in client/dist current.

`npm ci` runs when client/node_modules is missing or older than package-lock.json;
`npm run build` when client/dist/index.html is missing or older than any source. Both
hold a lock file, so two test runs on one machine never install or build at once."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from api.dev.client_build import client_build_lock

CLIENT = Path(__file__).resolve().parents[2] / "client"
DIST = CLIENT / "dist"
NODE = shutil.which("node")
NPM = shutil.which("npm")
NODE_MISSING = "Node.js (node and npm) is not installed"

# What the production build is made from (src/gql is generated and committed).
BUILD_INPUTS = ("src", "public", "index.html", "vite.config.ts", "package-lock.json")
BUILD_INPUT_GLOBS = ("tsconfig*.json",)


def node_installed() -> bool:
    return NODE is not None and NPM is not None


def run_npm(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "FORCE_COLOR": "0", "NO_COLOR": "1"}
    env.pop("NODE_OPTIONS", None)
    assert NPM is not None, NODE_MISSING
    return subprocess.run(
        [NPM, *args],
        cwd=CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def check_npm(*args: str, timeout: int = 600) -> str:
    """Runs `npm ARGS` in client/; fails, with its output, unless it exits 0."""
    result = run_npm(*args, timeout=timeout)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, (
        f"`npm {' '.join(args)}` exited {result.returncode}:\n{output[-6000:]}"
    )
    return output


def needs_install() -> bool:
    installed = CLIENT / "node_modules" / ".package-lock.json"
    lock = CLIENT / "package-lock.json"
    return not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime


def ensure_installed() -> None:
    with client_build_lock(CLIENT):
        if needs_install():
            check_npm("ci", "--no-audit", "--no-fund", timeout=900)


def _newest_source_mtime() -> float:
    paths: list[Path] = []
    for name in BUILD_INPUTS:
        path = CLIENT / name
        if path.is_dir():
            paths.extend(file for file in path.rglob("*") if file.is_file())
        elif path.is_file():
            paths.append(path)
    for pattern in BUILD_INPUT_GLOBS:
        paths.extend(CLIENT.glob(pattern))
    return max(path.stat().st_mtime for path in paths)


def needs_build() -> bool:
    index = DIST / "index.html"
    return not index.exists() or index.stat().st_mtime < _newest_source_mtime()


def build() -> str:
    """`npm run build` (type check, then the production build in client/dist)."""
    with client_build_lock(CLIENT):
        return check_npm("run", "build")


def ensure_built() -> Path:
    """client/dist, built from the current sources (installing the packages first)."""
    ensure_installed()
    with client_build_lock(CLIENT):
        if needs_build():
            check_npm("run", "build")
    return DIST
