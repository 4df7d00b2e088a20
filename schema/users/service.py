"""Staff user management: listing with filters and orderings, deactivate/reactivate.
Plain async Python over SQL; permissions are checked by the callers' resolvers."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from api.errors import BadUserInput, NotFound
from api.infra.cache import forget_user_after_commit
from api.resources import Resources
from api.unit_of_work import UnitOfWork
from db.models import LAST_LOGIN_SORT, USER_SEARCH_TEXT, User, UserCount
from schema.accounts import email_tokens
from schema.accounts.sessions import publish_revocations, revoke_all
from schema.audit.service import AuditAction, record
from schema.pagination import Ordering, SortKey, count
from schema.times import in_range

SEARCH_MAX = 100


class UserOrderField(enum.Enum):
    EMAIL = "EMAIL"
    DATE_JOINED = "DATE_JOINED"
    LAST_LOGIN = "LAST_LOGIN"
    USERNAME = "USERNAME"


@dataclass(frozen=True, slots=True)
class UserListFilter:
    search: str | None = None
    is_active: bool | None = None
    is_staff: bool | None = None
    joined_after: datetime | None = None
    joined_before: datetime | None = None


_ID_KEY = SortKey(col(User.id), uuid.UUID)
# Each ordering's expressions match an index (db/models.py), the id breaking ties.
_SORT_KEYS: dict[UserOrderField, SortKey] = {
    UserOrderField.EMAIL: SortKey(func.lower(col(User.email)), str),
    UserOrderField.USERNAME: SortKey(func.lower(col(User.username)), str),
    UserOrderField.DATE_JOINED: SortKey(col(User.created_at), datetime),
    UserOrderField.LAST_LOGIN: SortKey(sa.literal_column(LAST_LOGIN_SORT), datetime),
}


def user_ordering(field: UserOrderField, descending: bool) -> Ordering:
    name = f"users-{field.value.lower()}-{'desc' if descending else 'asc'}"
    return Ordering(name, (_SORT_KEYS[field], _ID_KEY), descending)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_term(filters: UserListFilter) -> str | None:
    """The search text that filters the list, if any (blank searches match everyone)."""
    term = filters.search.strip() if filters.search is not None else ""
    return term or None


def users_statement(filters: UserListFilter) -> SelectOfScalar[User]:
    errors: dict[str, list[str]] = {}
    if filters.search is not None and len(filters.search) > SEARCH_MAX:
        errors["search"] = [f"Use at most {SEARCH_MAX} characters."]
    elif filters.search is not None and "\x00" in filters.search:
        errors["search"] = ["Remove the NUL character."]
    if errors:
        raise BadUserInput(errors)
    stmt = select(User)
    term = _search_term(filters)
    if term is not None:
        pattern = f"%{_escape_like(term)}%"
        stmt = stmt.where(sa.literal_column(f"({USER_SEARCH_TEXT})").ilike(pattern, escape="\\"))
    if filters.is_active is not None:
        # The same meaning as User.isActive: active and not soft-deleted.
        active = sa.and_(col(User.is_active), col(User.deleted_at).is_(None))
        stmt = stmt.where(active if filters.is_active else sa.not_(active))
    if filters.is_staff is not None:
        stmt = stmt.where(col(User.is_staff) == filters.is_staff)
    return in_range(
        stmt, col(User.created_at), filters.joined_after, filters.joined_before, field="joined"
    )


async def count_users(db: AsyncSession, filters: UserListFilter) -> int:
    """How many users the list has under `filters` (its totalCount).

    Unfiltered, or filtered by isActive and/or isStaff only: a sum over at most four
    rows of `user_counts`, which triggers on `users` keep exact in the same
    transactions that change users (db/models.py UserCount), whatever the table's size.
    Any other filter (search, joinedAfter, joinedBefore) counts the matching rows with a
    scan of the filtered list: its cost grows with the rows that match."""
    if (
        _search_term(filters) is not None
        or filters.joined_after is not None
        or filters.joined_before is not None
    ):
        return await count(db, users_statement(filters))
    stmt = select(func.coalesce(func.sum(col(UserCount.total)), 0))
    if filters.is_active is not None:
        stmt = stmt.where(col(UserCount.active) == filters.is_active)
    if filters.is_staff is not None:
        stmt = stmt.where(col(UserCount.staff) == filters.is_staff)
    return int((await db.exec(stmt)).one())


async def _set_active(
    uow: UnitOfWork, resources: Resources, actor_id: uuid.UUID, user_id: uuid.UUID, active: bool
) -> User:
    user = await uow.db.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("No such user.")
    if user.id == actor_id and not active:
        raise BadUserInput({"id": ["You cannot deactivate your own account."]})
    if user.is_active == active and (user.deleted_at is None) == active:
        return user  # already so: nothing to record
    before = {"isActive": user.is_active, "deletedAt": _iso(user.deleted_at)}
    user.is_active = active
    user.deleted_at = None if active else datetime.now(UTC)
    uow.db.add(user)
    if not active:
        revoked = await revoke_all(uow.db, user.id, "deactivated")
        publish_revocations(uow, resources, revoked)
        # A reset link mailed before must not work once the account is reactivated.
        await email_tokens.use_up_all(uow, user.id, email_tokens.RESET)
    record(
        uow,
        AuditAction.USER_REACTIVATED if active else AuditAction.USER_DEACTIVATED,
        user_id=user.id,
        model_name="User",
        object_id=user.id,
        changes={
            "isActive": {"from": before["isActive"], "to": active},
            "deletedAt": {"from": before["deletedAt"], "to": _iso(user.deleted_at)},
            "by": str(actor_id),
        },
    )
    forget_user_after_commit(uow, resources.cache, user.id)
    return user


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def deactivate(
    uow: UnitOfWork, resources: Resources, actor_id: uuid.UUID, user_id: uuid.UUID
) -> User:
    """Soft delete: the account can no longer sign in and its sessions end now."""
    return await _set_active(uow, resources, actor_id, user_id, active=False)


async def reactivate(
    uow: UnitOfWork, resources: Resources, actor_id: uuid.UUID, user_id: uuid.UUID
) -> User:
    return await _set_active(uow, resources, actor_id, user_id, active=True)
