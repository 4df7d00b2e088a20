"""Parsing client-sent ids: a malformed id is BAD_USER_INPUT, never a 500."""

from __future__ import annotations

import uuid

from api.errors import BadUserInput


def parse_id(value: str, field: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise BadUserInput({field: ["Not a valid id."]}) from None
