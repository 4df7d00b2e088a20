"""Helpers shared by the deployment checks: where things are, and running the tools."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
OPS = REPO_ROOT / "ops"
# The console scripts installed next to the interpreter running the tests (.venv/bin).
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """The path of a dev dependency's binary; fail (not skip) when it is missing."""
    found = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make` installs it with the dev dependencies")
    return found


def run(args: list[str], *, cwd: Path = REPO_ROOT, env: dict[str, str] | None = None) -> str:
    """Run a command; return stdout + stderr; raise AssertionError when it fails."""
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n{output}")
    return output


def settings_aliases() -> set[str]:
    """Every environment variable the service reads (api/settings.py)."""
    from api.settings import Settings

    return {str(field.validation_alias) for field in Settings.model_fields.values()}


# Read by the image's command (uvicorn processes), not by api/settings.py.
IMAGE_VARIABLES = {"WEB_CONCURRENCY"}


def load_settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> object:
    """Load the service's settings from exactly `env`, as the process would, and apply
    the production checks (`check_deployable`); return the Settings."""
    from api.settings import load_settings

    for name in settings_aliases():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def parse_cli(argv: list[str]) -> argparse.Namespace:
    """What `glassshop` makes of argv (it must parse): .command is the subcommand."""
    from api.cli import build_parser

    assert argv[0] == "glassshop", argv
    return build_parser().parse_args(argv[1:])
