"""Input rules for accounts, as {field: [messages]} for BAD_USER_INPUT."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from api.infra.passwords import password_problems
from api.settings import Settings

USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,150}")
NAME_MAX = 150

FieldErrors = dict[str, list[str]]


def normalize_email(raw: str) -> str:
    """Lower-cased as a whole: GlassShop treats mailboxes as case-insensitive."""
    return raw.strip().lower()


def email_problems(email: str, settings: Settings) -> list[str]:
    if len(email) > 254:
        return ["Use at most 254 characters."]
    try:
        # Outside production, the reserved `.test` domain is allowed for seeded and
        # benchmark accounts (user00001@glassshop.test).
        validate_email(
            email, check_deliverability=False, test_environment=not settings.is_production
        )
    except EmailNotValidError:
        return ["Enter a valid email address."]
    return []


def username_problems(username: str) -> list[str]:
    if not USERNAME_RE.fullmatch(username):
        return ["Use 3 to 150 letters, digits, dots, dashes or underscores."]
    return []


def name_problems(name: str) -> list[str]:
    if len(name) > NAME_MAX:
        return [f"Use at most {NAME_MAX} characters."]
    if any(ord(ch) < 32 for ch in name):
        return ["Remove control characters."]
    return []


def new_password_problems(password: str, settings: Settings) -> list[str]:
    return password_problems(
        password, min_length=settings.password_min_length, max_length=settings.password_max_length
    )


def add(errors: FieldErrors, field: str, problems: list[str]) -> None:
    if problems:
        errors.setdefault(field, []).extend(problems)
