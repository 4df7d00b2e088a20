"""`glassshop serve` builds the web client when its build is missing, in development, in
a source checkout, with Node.js; otherwise, or when the build fails, it says so in one
line and serves the API anyway.

The builds here are real `npm` runs, of a tiny package in a temporary "checkout" whose
build script writes dist/index.html (or fails); no network is needed."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

from api.dev.client_build import ClientBuild, ensure_client_built
from api.settings import Settings

NPM_MISSING = shutil.which("npm") is None or shutil.which("node") is None
needs_node = pytest.mark.skipif(NPM_MISSING, reason="Node.js (node and npm) is not installed")

WRITE_INDEX = (
    "node -e \"require('fs').mkdirSync('dist',{recursive:true});"
    "require('fs').writeFileSync('dist/index.html','<!doctype html>')\""
)
FAIL = "node -e \"console.error('vite: the build broke'); process.exit(3)\""


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """The suite's autouse fixture empties PostgreSQL and Redis between tests; these tests
    use neither."""


def checkout(root: Path, build_script: str = WRITE_INDEX) -> Path:
    """A client source directory: package.json with a build script, and its lock file."""
    client = root / "client"
    client.mkdir()
    package = {"name": "tiny", "version": "1.0.0", "private": True}
    (client / "package.json").write_text(
        json.dumps({**package, "scripts": {"build": build_script}})
    )
    lock = {**package, "lockfileVersion": 3, "requires": True, "packages": {"": package}}
    (client / "package-lock.json").write_text(json.dumps(lock))
    return client


def settings_for(client: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"app_env": "development", "client_dist_dir": client / "dist"}
    return Settings(**{**values, **overrides})


def build(
    client: Path, caplog: pytest.LogCaptureFixture, **overrides: Any
) -> tuple[ClientBuild, list[str]]:
    search_path = overrides.pop("search_path", None)
    with caplog.at_level(logging.INFO, logger="glassshop.client"):
        result = ensure_client_built(
            settings_for(client, **overrides), client_dir=client, search_path=search_path
        )
    return result, [record.getMessage() for record in caplog.records]


@needs_node
def test_a_missing_build_is_installed_then_built(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = checkout(tmp_path)

    result, logged = build(client, caplog)

    assert result.built
    assert (client / "dist" / "index.html").is_file()
    assert logged[0] == f"Building the web client: npm ci --no-audit --no-fund in {client}"
    assert logged[1] == f"Building the web client: npm run build in {client}"
    assert logged[2].startswith("Built the web client in ")


@needs_node
def test_installed_packages_are_not_installed_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = checkout(tmp_path)
    (client / "node_modules").mkdir()

    result, logged = build(client, caplog)

    assert result.built
    assert not any("npm ci" in line for line in logged)


@needs_node
def test_a_failed_build_is_logged_and_does_not_stop_the_api(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = checkout(tmp_path, build_script=FAIL)

    result, _ = build(client, caplog)

    assert not result.built
    (error,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    message = error.getMessage()
    assert message.startswith("Building the web client failed: `npm run build` exited 3")
    assert "vite: the build broke" in message
    assert message.endswith("; serving the API only")
    assert not (client / "dist").exists()


def test_without_node_the_client_is_not_built_and_the_log_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = checkout(tmp_path)
    empty_path = tmp_path / "bin"
    empty_path.mkdir()

    result, logged = build(client, caplog, search_path=str(empty_path))

    assert not result.built
    assert logged == [
        "The web client is not built: Node.js (node and npm) is not on PATH; serving the API only"
    ]
    assert not (client / "dist").exists()


@needs_node
def test_an_existing_build_is_left_as_it_is(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The build script would fail: it must not run.
    client = checkout(tmp_path, build_script=FAIL)
    (client / "dist").mkdir()
    (client / "dist" / "index.html").write_text("the existing build")

    result, logged = build(client, caplog)

    assert (result.built, logged) == (False, [])
    assert (client / "dist" / "index.html").read_text() == "the existing build"


@needs_node
@pytest.mark.parametrize("app_env", ["test", "production"])
def test_only_development_builds_the_client(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, app_env: str
) -> None:
    client = checkout(tmp_path)

    result, logged = build(client, caplog, app_env=app_env)

    assert not result.built
    assert len(logged) == 1 and f"APP_ENV={app_env}" in logged[0]
    assert not (client / "dist").exists()


@needs_node
def test_a_build_directory_elsewhere_is_not_built(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = checkout(tmp_path)

    result, logged = build(client, caplog, client_dist_dir=tmp_path / "elsewhere")

    assert not result.built
    assert len(logged) == 1 and "CLIENT_DIST_DIR" in logged[0]
    assert not (client / "dist").exists()


@needs_node
def test_without_client_sources_nothing_is_built(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An installed package (the container image): a client directory, no package.json.
    client = tmp_path / "client"
    client.mkdir()

    result, logged = build(client, caplog)

    assert not result.built
    assert logged == [
        f"The web client is not built: {client} has no package.json; serving the API only"
    ]
