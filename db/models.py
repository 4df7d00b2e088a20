"""SQLModel tables. Only tables live here; GraphQL types map them explicitly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

# Stable constraint names make Alembic's autogenerate and downgrades predictable.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _created_at() -> Any:
    return Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now()},
        nullable=False,
    )


def _updated_at() -> Any:
    return Field(
        default_factory=utcnow,
        sa_type=sa.DateTime(timezone=True),
        sa_column_kwargs={"server_default": sa.func.now(), "onupdate": utcnow},
        nullable=False,
    )


def _optional_timestamp() -> Any:
    return Field(default=None, sa_type=sa.DateTime(timezone=True), nullable=True)


def _jsonb() -> Any:
    return Field(
        default_factory=dict,
        sa_type=JSONB,
        sa_column_kwargs={"server_default": sa.text("'{}'::jsonb")},
        nullable=False,
    )


# One text per user for substring search, and last_login with NULLs first; the
# indexes below are built on exactly these expressions. (asyncpg reads '-infinity' as
# datetime.min and writes datetime.min back as '-infinity', so cursors round-trip.)
USER_SEARCH_TEXT = "email || ' ' || username || ' ' || first_name || ' ' || last_name"
LAST_LOGIN_SORT = "coalesce(last_login, '-infinity'::timestamptz)"


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased; the functional index keeps uniqueness
        # case-insensitive even for rows written by other tools.
        sa.Index("uq_users_email_lower", sa.func.lower(sa.text("email")), unique=True),
        sa.Index("uq_users_username_lower", sa.func.lower(sa.text("username")), unique=True),
        # Keyset pagination of the staff user list in each order, id breaking ties.
        sa.Index("ix_users_created_at_id", "created_at", "id"),
        sa.Index("ix_users_last_login_id", sa.text(LAST_LOGIN_SORT), "id"),
        # Substring search over email, username and names (ILIKE '%term%').
        sa.Index(
            "ix_users_search_trgm",
            sa.text(f"({USER_SEARCH_TEXT}) gin_trgm_ops"),
            postgresql_using="gin",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=254, nullable=False)
    username: str = Field(max_length=150, nullable=False)
    password_hash: str = Field(max_length=255, nullable=False)
    first_name: str = Field(default="", max_length=150, nullable=False)
    last_name: str = Field(default="", max_length=150, nullable=False)
    is_active: bool = Field(default=True, nullable=False)
    is_staff: bool = Field(default=False, nullable=False)
    email_verified_at: datetime | None = _optional_timestamp()
    last_login: datetime | None = _optional_timestamp()
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()
    deleted_at: datetime | None = _optional_timestamp()


class UserCount(SQLModel, table=True):
    """How many users are in each (active, staff) bucket, for the staff list's totalCount.

    Kept exact by statement-level triggers on `users` (see the migration that creates
    this table): each INSERT, UPDATE or DELETE adds its net change per bucket in the same
    transaction, and TRUNCATE users empties it. "Active" means what the list's isActive
    filter means: is_active AND deleted_at IS NULL. Never written by the API itself."""

    __tablename__ = "user_counts"

    active: bool = Field(primary_key=True)
    staff: bool = Field(primary_key=True)
    total: int = Field(default=0, sa_type=sa.BigInteger, nullable=False)


class UserProfile(SQLModel, table=True):
    __tablename__ = "user_profiles"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        foreign_key="users.id", ondelete="CASCADE", unique=True, nullable=False
    )
    avatar: str | None = Field(default=None, max_length=2048)
    phone: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=1024)
    preferences: dict[str, Any] = _jsonb()
    # "metadata" is reserved by SQLAlchemy's declarative base, hence the attribute name.
    extra_metadata: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=sa.Column(
            "metadata", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")
        ),
    )
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()
    deleted_at: datetime | None = _optional_timestamp()


class AuthSession(SQLModel, table=True):
    """One signed-in device: a refresh-token family that the user can see and end."""

    __tablename__ = "auth_sessions"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    user_agent: str | None = Field(default=None, max_length=512)
    ip_address: str | None = Field(default=None, max_length=64)
    last_used_at: datetime = _created_at()
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    revoked_at: datetime | None = _optional_timestamp()
    revoked_reason: str | None = Field(default=None, max_length=64)
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()
    deleted_at: datetime | None = _optional_timestamp()


class RefreshToken(SQLModel, table=True):
    """One refresh token of a session; only its SHA-256 is stored."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    session_id: uuid.UUID = Field(foreign_key="auth_sessions.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(max_length=64, unique=True, nullable=False)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    # Set when the token was exchanged for a new one; presenting it again is reuse.
    rotated_at: datetime | None = _optional_timestamp()
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()


class AuditLog(SQLModel, table=True):
    """Append-only: rows are inserted and never updated or deleted by the API."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        sa.Index("ix_audit_logs_user_id_created_at_id", "user_id", "created_at", "id"),
        sa.Index("ix_audit_logs_created_at_id", "created_at", "id"),
        sa.Index("ix_audit_logs_action_created_at_id", "action", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", ondelete="SET NULL", nullable=True
    )
    action: str = Field(max_length=32, nullable=False)
    model_name: str = Field(max_length=64, nullable=False)
    object_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] = _jsonb()
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)
    request_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = _created_at()


class OutboxMessage(SQLModel, table=True):
    """Background work recorded in the same transaction as the change that needs it.

    A relay hands pending rows to the job queue; the job marks its row done. A row
    of a rolled-back transaction never exists, and a row whose job was lost (queue
    or worker down) is handed over again until it is done."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # The relay's scan: pending rows, oldest first.
        sa.Index(
            "ix_outbox_messages_pending",
            "created_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    kind: str = Field(max_length=64, nullable=False)
    payload: dict[str, Any] = _jsonb()
    status: str = Field(default="pending", max_length=16, nullable=False)
    attempts: int = Field(default=0, nullable=False)
    enqueued_at: datetime | None = _optional_timestamp()
    processed_at: datetime | None = _optional_timestamp()
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()


class EmailToken(SQLModel, table=True):
    """A single-use emailed token (verification or password reset), stored as a hash."""

    __tablename__ = "email_tokens"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    purpose: str = Field(max_length=16, nullable=False)
    token_hash: str = Field(max_length=64, unique=True, nullable=False)
    # The outbox message that mailed it: a retried job replaces its own token.
    outbox_id: uuid.UUID | None = Field(default=None, unique=True, nullable=True)
    expires_at: datetime = Field(sa_type=sa.DateTime(timezone=True), nullable=False)
    used_at: datetime | None = _optional_timestamp()
    created_at: datetime = _created_at()
    updated_at: datetime = _updated_at()
