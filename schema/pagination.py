"""Keyset (cursor) pagination: no OFFSET scans, stable while rows are inserted.

A cursor carries the ordering's name and the sort key of a row (its sort columns
plus the unique id as the tie-breaker), base64-encoded; a cursor from another
ordering is rejected. `first`/`after` walk forwards in the ordering,
`last`/`before` backwards; both are capped at MAX_PAGE_SIZE."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession as SQLAlchemySession
from sqlalchemy.sql import Select
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from api.errors import BadUserInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def validate(self) -> None:
        errors: dict[str, list[str]] = {}
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                errors[name] = [f"Must be between 0 and {MAX_PAGE_SIZE}."]
        if self.first is not None and self.last is not None:
            errors["last"] = ["Use either first or last, not both."]
        if self.after is not None and self.before is not None:
            errors["before"] = ["Use either after or before, not both."]
        elif self.first is not None and self.before is not None:
            errors["before"] = ["Page forwards (first) from `after`, or backwards (last)."]
        elif self.last is not None and self.after is not None:
            errors["after"] = ["Page backwards (last) from `before`, or forwards (first)."]
        if errors:
            raise BadUserInput(errors)

    @property
    def backwards(self) -> bool:
        return self.last is not None or (self.before is not None and self.first is None)

    @property
    def size(self) -> int:
        chosen = self.last if self.backwards else self.first
        return DEFAULT_PAGE_SIZE if chosen is None else chosen


@dataclass(frozen=True, slots=True)
class SortKey:
    """One column (or expression) of an ordering; `kind` decodes it back from a
    cursor. `value` reads it off a row, for pages fetched without fetch_page."""

    column: Any
    kind: type
    value: Callable[[Any], Any] | None = None


@dataclass(frozen=True, slots=True)
class Ordering:
    name: str
    keys: tuple[SortKey, ...]
    descending: bool

    def cursor_of(self, row: Any) -> str:
        values = []
        for key in self.keys:
            assert key.value is not None, f"{self.name}: pages of rows need SortKey.value"
            values.append(key.value(row))
        return encode_cursor(self.name, values)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


# asyncpg reads PostgreSQL's infinite timestamps as naive datetime.min/max and writes
# those back as infinities; cursors name them so they survive the round trip.
_INFINITIES = {"-infinity": datetime.min, "infinity": datetime.max}


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        for name, infinite in _INFINITIES.items():
            if value == infinite and value.tzinfo is None:
                return name
        return value.isoformat()
    return str(value)


def encode_cursor(name: str, values: Sequence[Any]) -> str:
    plain = [_encode(v) for v in values]
    raw = json.dumps([name, *plain]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, ordering: Ordering, arg: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(raw, list) or len(raw) != len(ordering.keys) + 1:
            raise ValueError("shape")
        if raw[0] != ordering.name:
            raise ValueError("cursor of another ordering")
        return [_decode(v, key.kind) for v, key in zip(raw[1:], ordering.keys, strict=True)]
    except (ValueError, TypeError, binascii.Error, UnicodeError):
        raise BadUserInput({arg: ["Invalid cursor."]}) from None


def _decode(value: Any, kind: type) -> Any:
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("cursor values are strings without NUL")
    if kind is datetime:
        if value in _INFINITIES:
            return _INFINITIES[value]
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed
    if kind is uuid.UUID:
        return uuid.UUID(value)
    return value


async def fetch_page(
    db: AsyncSession, stmt: SelectOfScalar[T], ordering: Ordering, args: PageArgs
) -> Page[T]:
    """Run `stmt` (already filtered) one page at a time in `ordering`."""
    args.validate()
    backwards = args.backwards
    # Walking backwards reads in the opposite order, then reverses the page.
    read_descending = ordering.descending != backwards
    columns = [key.column for key in ordering.keys]
    cursor_arg, cursor = ("before", args.before) if backwards else ("after", args.after)
    if cursor is not None:
        values = decode_cursor(cursor, ordering, cursor_arg)
        row_key = sa.tuple_(*columns)
        bound = sa.tuple_(*[sa.literal(v) for v in values])
        stmt = stmt.where(row_key < bound if read_descending else row_key > bound)
    order = [c.desc() if read_descending else c.asc() for c in columns]
    size = args.size
    # The cursor values come from PostgreSQL itself (lower(), coalesce() ...), so the
    # next page compares like with like.
    keyed: Select[Any] = stmt.add_columns(*columns).order_by(*order).limit(size + 1)
    # SQLModel's exec() would keep only the entity; SQLAlchemy's execute returns the rows.
    results = list((await SQLAlchemySession.execute(db, keyed)).all())
    more = len(results) > size
    results = results[:size]
    if backwards:
        results.reverse()
    return Page(
        rows=[result[0] for result in results],
        cursors=[encode_cursor(ordering.name, list(result[1:])) for result in results],
        # Relay allows reporting the opposite direction approximately: a cursor
        # given means there is something on that side.
        has_next_page=more if not backwards else args.before is not None,
        has_previous_page=more if backwards else args.after is not None,
    )


def first_page(rows: list[T], ordering: Ordering, size: int) -> Page[T]:
    """A first page from rows fetched elsewhere (size + 1 of them, to know if more exist)."""
    shown = rows[:size]
    return Page(
        rows=shown,
        cursors=[ordering.cursor_of(row) for row in shown],
        has_next_page=len(rows) > size,
        has_previous_page=False,
    )


async def count(db: AsyncSession, stmt: SelectOfScalar[Any]) -> int:
    counted = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = (await db.exec(counted)).one()
    return int(total)
