""".github/workflows/ci.yml runs what .ci/run runs, with the services the tests look for."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ops.support import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
CI_RUN = REPO_ROOT / ".ci" / "run"
# What the tests connect to when it answers (tests/support/services.py).
SERVICE_PORTS = {"postgres": "5432:5432", "redis": "6379:6379"}


def ci_run_commands() -> list[str]:
    """.ci/run's commands, less the shell's own set-up (set -e..., cd to the repo)."""
    commands = []
    for line in CI_RUN.read_text().splitlines():
        words = shlex.split(line, comments=True)
        if words and words[0] not in ("set", "cd"):
            commands.append(" ".join(words))
    return commands


def workflow_problems(path: Path) -> list[str]:
    """Why the workflow would not do what .ci/run does (empty: it would)."""
    try:
        workflow: dict[Any, Any] = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    problems = []
    # YAML 1.1 reads the key `on` as True.
    if not (workflow.get("on") or workflow.get(True)):
        problems.append("no `on:` trigger")
    jobs = workflow.get("jobs") or {}
    if len(jobs) != 1:
        return [*problems, f"expected one job, found {len(jobs)}"]
    (job,) = jobs.values()
    steps = job.get("steps") or []
    uses = {str(step["uses"]).partition("@")[0]: step for step in steps if "uses" in step}
    python = str(uses.get("actions/setup-python", {}).get("with", {}).get("python-version"))
    node = str(uses.get("actions/setup-node", {}).get("with", {}).get("node-version"))
    if "actions/checkout" not in uses:
        problems.append("no actions/checkout step")
    if python != "3.11":
        problems.append(f"setup-python installs {python}, not 3.11")
    if node != "20":
        problems.append(f"setup-node installs {node}, not 20")
    runs = [" ".join(shlex.split(str(step["run"]))) for step in steps if "run" in step]
    if runs != ci_run_commands():
        problems.append(f"runs {runs}, .ci/run runs {ci_run_commands()}")
    services = job.get("services") or {}
    for name, ports in SERVICE_PORTS.items():
        if ports not in (services.get(name) or {}).get("ports", []):
            problems.append(f"no {name} service on {ports}")
    return problems


def test_ci_run_is_what_the_workflow_mirrors() -> None:
    assert ci_run_commands() == ["make lint", "make test"]


def test_the_workflow_runs_what_ci_run_runs() -> None:
    assert workflow_problems(WORKFLOW) == []


def test_the_check_catches_broken_copies(tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    text = WORKFLOW.read_text()
    broken.write_text(text.replace("run: make test", "run: make tset"))
    assert any("make tset" in problem for problem in workflow_problems(broken))
    broken.write_text(text.replace('python-version: "3.11"', 'python-version: "3.12"'))
    assert workflow_problems(broken) == ["setup-python installs 3.12, not 3.11"]
    broken.write_text(text.replace("    services:\n", "    services:\n  - ", 1))
    assert workflow_problems(broken)[0].startswith("not YAML")


def test_python_version_matches_the_project_and_the_image() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert project["project"]["requires-python"] == ">=3.11"
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-", dockerfile, flags=re.MULTILINE)


@pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
def test_service_images_match_compose(name: str) -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    (job,) = workflow["jobs"].values()
    compose = yaml.safe_load((REPO_ROOT / "ops" / "compose.yml").read_text())
    ci_major = job["services"][name]["image"].partition(":")[2].split(".")[0].split("-")[0]
    compose_major = compose["services"][name]["image"].partition(":")[2].split(".")[0].split("-")[0]
    assert ci_major == compose_major, "CI tests against the versions compose deploys"
