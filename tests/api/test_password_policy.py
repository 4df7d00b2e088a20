"""The password policy's common-password check: the 100,000 most common passwords of
a public breach corpus (api/infra/common_passwords.README.md), matched case-insensitively."""

from __future__ import annotations

import secrets
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from api.infra import passwords
from api.infra.passwords import common_passwords, password_problems

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TOO_COMMON = "This password is too common; choose another."


def problems(password: str) -> list[str]:
    return password_problems(password, min_length=8, max_length=128)


def test_password123_is_refused_as_too_common() -> None:
    assert problems("password123") == [TOO_COMMON]


def test_a_common_password_is_refused_whatever_its_case() -> None:
    assert problems("PassWord123") == [TOO_COMMON]


def test_a_strong_random_password_is_accepted() -> None:
    assert problems(secrets.token_urlsafe(18)) == []


def test_the_list_holds_at_least_100000_passwords() -> None:
    assert len(common_passwords()) >= 100_000


def test_the_list_is_held_lower_case() -> None:
    assert all(password == password.lower() for password in common_passwords())


def test_the_list_is_read_once_as_a_frozenset() -> None:
    assert isinstance(common_passwords(), frozenset)
    assert common_passwords() is common_passwords()


def test_the_list_and_its_licence_notice_ship_in_the_wheel() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["package-data"]["api.infra"]
    for name in (passwords.COMMON_PASSWORDS_FILE, "common_passwords.README.md"):
        assert (PROJECT_ROOT / "api" / "infra" / name).is_file()
        assert any(fnmatch(name, pattern) for pattern in patterns), name
