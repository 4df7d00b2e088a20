"""Running Alembic from code, against an explicit database URL.

The script location is the installed `db` package, so this works the same from a
checkout and from an installed wheel (the container image)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "db:migrations")
    config.attributes["database_url"] = database_url
    # The caller has configured logging already.
    config.attributes["configure_logger"] = False
    return config


def upgrade_to_head(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
