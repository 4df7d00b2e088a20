"""cleanup (run periodically by the worker) deletes what has no further use: expired or used
email tokens, sessions ended more than 30 days ago, done outbox rows past the retention;
and nothing that is still live."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.jobs.maintenance import cleanup
from api.settings import Settings
from db.engine import create_db_factory
from tests.support.graphql import GraphQLClient

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


async def insert(engine: AsyncEngine, table: str, **values: Any) -> uuid.UUID:
    row_id = uuid.uuid4()
    values = {"id": row_id, **values}
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    async with engine.begin() as connection:
        await connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)
    return row_id


async def ids(engine: AsyncEngine, table: str) -> set[uuid.UUID]:
    async with engine.connect() as connection:
        return {row[0] for row in await connection.execute(text(f"SELECT id FROM {table}"))}


async def email_token(engine: AsyncEngine, user_id: str, **values: Any) -> uuid.UUID:
    return await insert(
        engine,
        "email_tokens",
        user_id=uuid.UUID(user_id),
        purpose="verify",
        token_hash=secrets.token_hex(32),
        **{"expires_at": NOW + DAY, "used_at": None, **values},
    )


async def auth_session(engine: AsyncEngine, user_id: str, **values: Any) -> uuid.UUID:
    return await insert(
        engine,
        "auth_sessions",
        user_id=uuid.UUID(user_id),
        **{"expires_at": NOW + 7 * DAY, "revoked_at": None, **values},
    )


async def outbox_row(engine: AsyncEngine, **values: Any) -> uuid.UUID:
    return await insert(
        engine,
        "outbox_messages",
        kind="email.welcome",
        attempts=1,
        **{"status": "done", "processed_at": None, "created_at": NOW, **values},
    )


async def run_cleanup(engine: AsyncEngine, settings: Settings) -> dict[str, int]:
    return await cleanup(create_db_factory(engine), settings)


async def test_cleanup_removes_expired_and_used_email_tokens_and_keeps_live_ones(
    client: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    user = await client.register("ada@example.com")
    expired = await email_token(engine, user.id, expires_at=NOW - timedelta(seconds=1))
    used = await email_token(engine, user.id, used_at=NOW - timedelta(minutes=1))
    live = await email_token(engine, user.id)

    removed = await run_cleanup(engine, settings)

    assert removed["email_tokens"] == 2
    assert await ids(engine, "email_tokens") == {live}
    assert not {expired, used} & await ids(engine, "email_tokens")


async def test_cleanup_removes_sessions_ended_more_than_30_days_ago_and_keeps_the_others(
    client: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    user = await client.register("ada@example.com")  # its own session is live
    live = await ids(engine, "auth_sessions")
    expired_long_ago = await auth_session(engine, user.id, expires_at=NOW - 31 * DAY)
    revoked_long_ago = await auth_session(engine, user.id, revoked_at=NOW - 31 * DAY)
    expired_lately = await auth_session(engine, user.id, expires_at=NOW - 29 * DAY)
    revoked_lately = await auth_session(engine, user.id, revoked_at=NOW - DAY)

    removed = await run_cleanup(engine, settings)

    assert removed["sessions"] == 2
    assert await ids(engine, "auth_sessions") == live | {expired_lately, revoked_lately}
    assert not {expired_long_ago, revoked_long_ago} & await ids(engine, "auth_sessions")


async def test_cleanup_removes_the_refresh_tokens_of_the_sessions_it_removes(
    client: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    user = await client.register("ada@example.com")
    kept_tokens = await ids(engine, "refresh_tokens")
    old = await auth_session(engine, user.id, revoked_at=NOW - 31 * DAY)
    await insert(
        engine,
        "refresh_tokens",
        session_id=old,
        token_hash=secrets.token_hex(32),
        expires_at=NOW - 24 * DAY,
    )

    await run_cleanup(engine, settings)

    assert await ids(engine, "refresh_tokens") == kept_tokens


async def test_cleanup_removes_done_outbox_rows_older_than_the_retention_and_keeps_others(
    engine: AsyncEngine, settings: Settings
) -> None:
    retention = timedelta(days=settings.outbox_retention_days)
    done_long_ago = await outbox_row(engine, processed_at=NOW - retention - DAY)
    done_lately = await outbox_row(engine, processed_at=NOW - retention + DAY)
    old_pending = await outbox_row(engine, status="pending", created_at=NOW - retention - DAY)

    removed = await run_cleanup(engine, settings)

    assert removed["outbox"] == 1
    assert await ids(engine, "outbox_messages") == {done_lately, old_pending}
    assert done_long_ago not in await ids(engine, "outbox_messages")


async def test_cleanup_with_nothing_to_remove_removes_nothing(
    client: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    user = await client.register("ada@example.com")
    await email_token(engine, user.id)
    await outbox_row(engine, processed_at=NOW)

    removed = await run_cleanup(engine, settings)

    assert removed == {"sessions": 0, "email_tokens": 0, "outbox": 0}
