"""The deployment files' checks read files and run linters: no database, no Redis.

The suite's autouse `clean_state` fixture (tests/conftest.py) empties PostgreSQL and
Redis before every test; here it is replaced by one that needs neither."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """Nothing to clean: these tests touch no database."""
