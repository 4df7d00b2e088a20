"""The layout is the architecture, and imports flow one way:

- `db` knows nothing of `api` or `schema`;
- `api/infra` (adapters: Redis, PostgreSQL, SMTP, tokens, metrics) knows nothing of
  HTTP, the jobs or GraphQL;
- `schema` (GraphQL types, resolvers and the domain services) never imports the HTTP
  edge; only the composition root (app factory, CLI, worker entry) and the `/graphql`
  view reach into it;
- domain services are plain async Python and SQL: importing one loads neither
  Strawberry nor Starlette, not even through what it imports;
- no module imports itself back through others."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "schema", "db")
# The composition root: the only modules outside api/http/graphql/ that import schema.
COMPOSITION_ROOT = {"api.app", "api.cli", "api.jobs.worker"}
# Modules of a domain folder (schema/<domain>/) that belong to the GraphQL layer, by how
# their names end (`email_mutations`); every other module there is a domain service.
GRAPHQL_MODULES = ("types", "inputs", "queries", "mutations", "subscriptions", "cookies")
DOMAINS = ("accounts", "users", "profiles", "audit")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def lazy_type_modules(tree: ast.Module) -> set[str]:
    """Modules named by `strawberry.lazy("...")`: GraphQL types that refer to each other
    (User.auditLogs → AuditLog.user → User) do so lazily, which is Strawberry's way of
    letting two types' modules name each other without importing each other."""
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "lazy"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


def imports_of(path: Path, known: set[str] | None = None) -> set[str]:
    """Every module `path` imports, wherever the import statement is (type-only imports
    included), but the lazily referenced GraphQL types. With `known`, `from a import b`
    also counts as importing the module `a.b` where that is one."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if known is not None:
                found.update(
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if f"{node.module}.{alias.name}" in known
                )
    return found - lazy_type_modules(tree)


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def offenders(modules: dict[str, Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{name} imports {imported}"
        for name, path in modules.items()
        for imported in sorted(imports_of(path))
        if any(within(imported, package) for package in forbidden)
    ]


def select(prefix: str) -> dict[str, Path]:
    return {name: path for name, path in project_modules().items() if within(name, prefix)}


def domain_services() -> list[str]:
    return sorted(
        name
        for name in project_modules()
        if name.count(".") == 2
        and name.split(".")[1] in DOMAINS
        and not name.split(".")[2].endswith(GRAPHQL_MODULES)
    )


def test_db_imports_neither_api_nor_schema() -> None:
    assert offenders(select("db"), ("api", "schema")) == []


def test_infra_imports_neither_http_nor_jobs_nor_schema() -> None:
    assert offenders(select("api.infra"), ("api.http", "api.jobs", "schema")) == []


def test_schema_never_imports_the_http_edge() -> None:
    assert offenders(select("schema"), ("api.http",)) == []


def test_only_the_composition_root_and_the_graphql_view_import_schema() -> None:
    outside = {
        name: path
        for name, path in select("api").items()
        if name not in COMPOSITION_ROOT and not within(name, "api.http.graphql")
    }
    assert offenders(outside, ("schema",)) == []


def test_every_domain_has_services() -> None:
    services = domain_services()
    for domain in DOMAINS:
        assert f"schema.{domain}.service" in services


@pytest.mark.parametrize("service", domain_services())
def test_a_domain_service_loads_neither_strawberry_nor_starlette(service: str) -> None:
    # A fresh interpreter, so that what this test process imported does not count.
    probe = (
        f"import sys, {service}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'strawberry', 'starlette'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", f"{service} loads {done.stdout.strip()}"


def cycles(graph: dict[str, set[str]]) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> Iterator[list[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                yield from visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                yield sorted(component)

    for node in sorted(graph):
        if node not in index:
            yield from visit(node)


def test_no_import_cycles_among_the_projects_modules() -> None:
    modules = project_modules()
    known = set(modules)
    graph = {
        name: {imported for imported in imports_of(path, known) if imported in known}
        for name, path in modules.items()
    }
    assert list(cycles(graph)) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert list(cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})) == [["a", "b", "c"]]
