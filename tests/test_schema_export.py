"""schema.graphql at the repository root is exactly what the code exports."""

from __future__ import annotations

from api.cli import export_sdl
from api.settings import PROJECT_ROOT


def test_exported_schema_file_is_up_to_date() -> None:
    committed = (PROJECT_ROOT / "schema.graphql").read_text()

    assert committed == export_sdl(), "schema.graphql is stale: run `glassshop export-schema`"
