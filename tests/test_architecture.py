"""Imports flow one way: db knows nothing of api or schema; services never import
strawberry; only the app factory and the CLI reach into the GraphQL layer."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def offenders(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in sorted(imported_modules(path))
        if module.split(".")[0] in forbidden or module in forbidden
    ]


def test_db_imports_neither_api_nor_schema() -> None:
    files = [p for p in python_files("db") if "migrations" not in p.parts]
    assert offenders(files, ("api", "schema")) == []


def test_services_never_import_strawberry() -> None:
    # Services are plain async Python + SQL, callable from a worker or a script.
    plain = {"service.py", "sessions.py", "validation.py"}
    services = [p for p in python_files("schema") if p.name in plain]
    assert len(services) >= 3, "service modules not found"
    assert offenders(services, ("strawberry",)) == []


def test_only_the_entry_points_import_the_graphql_layer() -> None:
    allowed = {ROOT / "api" / "app.py", ROOT / "api" / "cli.py", ROOT / "api" / "worker.py"}
    files = [p for p in python_files("api") if p not in allowed]
    assert offenders(files, ("schema",)) == []
