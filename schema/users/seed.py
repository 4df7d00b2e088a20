"""Bulk test accounts for development and benchmarks: `glassshop seed --users N`.

Creates user00001@glassshop.test … userN@glassshop.test (usernames user00001 …), each
with an empty profile and a REGISTER and a LOGIN audit row, all sharing one password
hash computed once. Every batch is a single INSERT … SELECT over generate_series whose
data-modifying CTEs also write the profiles and audit rows of exactly the users it
inserted, committed per batch. Existing accounts are skipped (ON CONFLICT DO NOTHING on
the unique indexes), so re-running creates nothing new and a crashed run can be resumed.

Plain Python over SQL, like the services: no GraphQL here."""

from __future__ import annotations

import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from db.engine import create_engine
from schema.audit.service import AuditAction

SEED_DOMAIN = "glassshop.test"
SEED_USER_AGENT = "glassshop-seed"
DEFAULT_BATCH_SIZE = 2_000

# Usernames are 'user' and the number zero-padded to at least five digits.
_SEED_BATCH = text(
    """
WITH wanted AS (
    SELECT 'user' || lpad(n::text, greatest(5, length(n::text)), '0') AS username
    FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n
),
inserted AS (
    INSERT INTO users (id, email, username, password_hash, first_name, last_name,
                       is_active, is_staff, last_login, created_at, updated_at)
    SELECT gen_random_uuid(), username || '@' || CAST(:domain AS text), username,
           CAST(:password_hash AS text), '', '', true, false, now(), now(), now()
    FROM wanted
    ORDER BY username
    ON CONFLICT DO NOTHING
    RETURNING id, email, username
),
profiles AS (
    INSERT INTO user_profiles (id, user_id, created_at, updated_at)
    SELECT gen_random_uuid(), id, now(), now() FROM inserted
),
audit AS (
    INSERT INTO audit_logs (id, user_id, action, model_name, object_id, changes,
                            user_agent, created_at)
    SELECT gen_random_uuid(), i.id, e.action, 'User', i.id::text,
           CASE WHEN e.action = CAST(:register AS text)
                THEN jsonb_build_object('email', i.email, 'username', i.username)
                ELSE '{}'::jsonb END,
           CAST(:user_agent AS text), now() - e.before
    FROM inserted AS i
    CROSS JOIN (VALUES (CAST(:register AS text), interval '1 second'),
                       (CAST(:login AS text), interval '0 seconds')) AS e(action, before)
)
SELECT count(*) FROM inserted
"""
)


@dataclass(frozen=True, slots=True)
class SeedResult:
    requested: int
    created: int
    seconds: float

    @property
    def existing(self) -> int:
        return self.requested - self.created


def seed_email(number: int) -> str:
    return f"user{number:05d}@{SEED_DOMAIN}"


def hash_seed_password(settings: Settings, password: str) -> str:
    """One argon2id hash with the server's parameters (so sign-in never rehashes it)."""
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
    )
    return hasher.hash(password)


async def seed_users(
    engine: AsyncEngine,
    *,
    count: int,
    password_hash: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> SeedResult:
    """Users 1..count that do not exist yet, with profiles and audit rows."""
    if count < 0 or batch_size < 1:
        raise ValueError("count must be >= 0 and batch_size >= 1")
    started = time.perf_counter()
    created = 0
    for first in range(1, count + 1, batch_size):
        last = min(count, first + batch_size - 1)
        async with engine.begin() as connection:
            result = await connection.execute(
                _SEED_BATCH,
                {
                    "first": first,
                    "last": last,
                    "domain": SEED_DOMAIN,
                    "password_hash": password_hash,
                    "register": AuditAction.REGISTER.value,
                    "login": AuditAction.LOGIN.value,
                    "user_agent": SEED_USER_AGENT,
                },
            )
            created += int(result.scalar_one())
    return SeedResult(requested=count, created=created, seconds=time.perf_counter() - started)


async def seed_database(
    settings: Settings, database_url: str, *, users: int, password: str
) -> SeedResult:
    """`glassshop seed`: hash the password once, then seed through a short-lived engine."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0, statement_timeout_ms=0)
    try:
        return await seed_users(
            engine, count=users, password_hash=hash_seed_password(settings, password)
        )
    finally:
        await engine.dispose()
