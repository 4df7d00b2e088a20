"""The web client (client/): generated types current, type check, unit tests, build.

Runs the client's own npm scripts, each of which must exit 0. `npm ci` runs first when
client/node_modules is missing or older than package-lock.json. Skipped, saying why,
only when Node.js is not installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "client"
NODE = shutil.which("node")
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="Node.js (node and npm) is not installed: the web client is not checked",
)


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """The suite's autouse fixture empties PostgreSQL and Redis between tests; these tests
    use neither, so they override it and start no database."""


def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "FORCE_COLOR": "0", "NO_COLOR": "1"}
    env.pop("NODE_OPTIONS", None)
    assert NPM is not None
    return subprocess.run(
        [NPM, *args],
        cwd=CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def check(*args: str, timeout: int = 600) -> str:
    result = run(*args, timeout=timeout)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, (
        f"`npm {' '.join(args)}` exited {result.returncode}:\n{output[-6000:]}"
    )
    return output


def needs_install() -> bool:
    installed = CLIENT / "node_modules" / ".package-lock.json"
    lock = CLIENT / "package-lock.json"
    return not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    if needs_install():
        check("ci", "--no-audit", "--no-fund", timeout=900)


def test_generated_types_match_the_schema_and_the_operations() -> None:
    check("run", "codegen:check")


def test_typecheck() -> None:
    check("run", "typecheck")


def test_unit_and_component_tests() -> None:
    output = check("test")
    assert " passed" in output, output[-3000:]  # it ran tests, and none failed (exit 0)


def test_production_build() -> None:
    check("run", "build")
    dist = CLIENT / "dist"
    assert (dist / "index.html").is_file()
    assert list((dist / "assets").glob("*.js")), "the build wrote no JavaScript"
