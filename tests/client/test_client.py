"""The web client (client/): generated types current, type check, lint and format, unit tests,
build.

Runs the client's own npm scripts, each of which must exit 0. `npm ci` runs first when
client/node_modules is missing or older than package-lock.json. Skipped, saying why,
only when Node.js is not installed."""

from __future__ import annotations

import pytest

from tests.support.client_build import (
    DIST,
    NODE_MISSING,
    build,
    check_npm,
    ensure_installed,
    node_installed,
)

pytestmark = pytest.mark.skipif(
    not node_installed(), reason=f"{NODE_MISSING}: the web client is not checked"
)


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """The suite's autouse fixture empties PostgreSQL and Redis between tests; these tests
    use neither, so they override it and start no database."""


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    ensure_installed()


def test_generated_types_match_the_schema_and_the_operations() -> None:
    check_npm("run", "codegen:check")


def test_typecheck() -> None:
    check_npm("run", "typecheck")


def test_lint_and_format() -> None:
    check_npm("run", "lint")  # Biome: lint rules, formatting and import order (client/biome.json)


def test_unit_and_component_tests() -> None:
    output = check_npm("test")
    assert " passed" in output, output[-3000:]  # it ran tests, and none failed (exit 0)


def test_production_build() -> None:
    build()
    assert (DIST / "index.html").is_file()
    assert list((DIST / "assets").glob("*.js")), "the build wrote no JavaScript"
