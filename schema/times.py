"""Times from clients: a DateTime without an offset is taken as UTC (the contract's
zone), and date ranges must not be inverted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlmodel.sql.expression import SelectOfScalar

from api.errors import BadUserInput

S = TypeVar("S", bound=SelectOfScalar[Any])


def as_utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def in_range(
    stmt: S, column: Any, after: datetime | None, before: datetime | None, *, field: str
) -> S:
    """`stmt` limited to after <= column <= before; an inverted range is bad input
    (reported on `<field>After`)."""
    if after is not None and before is not None and after > before:
        raise BadUserInput({f"{field}After": [f"Must not be later than {field}Before."]})
    if after is not None:
        stmt = stmt.where(column >= after)
    if before is not None:
        stmt = stmt.where(column <= before)
    return stmt
