"""Audit entries as they are written, through Redis pub/sub.

Entries are published after their transaction commits, so subscribers on every
API instance see every instance's entries, and never one that was rolled back."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from db.models import AuditLog

log = logging.getLogger("glassshop.audit_feed")


def _encode(entry: AuditLog) -> str:
    return json.dumps(
        {
            "id": str(entry.id),
            "user_id": str(entry.user_id) if entry.user_id else None,
            "action": entry.action,
            "model_name": entry.model_name,
            "object_id": entry.object_id,
            "changes": entry.changes,
            "ip_address": entry.ip_address,
            "created_at": entry.created_at.isoformat(),
        }
    )


def _decode(raw: str | bytes) -> AuditLog:
    data: dict[str, Any] = json.loads(raw)
    return AuditLog(
        id=uuid.UUID(data["id"]),
        user_id=uuid.UUID(data["user_id"]) if data["user_id"] else None,
        action=data["action"],
        model_name=data["model_name"],
        object_id=data["object_id"],
        changes=data["changes"],
        ip_address=data["ip_address"],
        created_at=datetime.fromisoformat(data["created_at"]),
    )


class AuditFeed:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        # Pub/sub channels are shared by all of a server's databases: name the database,
        # so deployments (or test runs) on one Redis server do not hear each other.
        database = redis.connection_pool.connection_kwargs.get("db", 0)
        self.channel = f"glassshop:{database}:audit"

    async def publish(self, entries: Sequence[AuditLog]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for entry in entries:
                    pipe.publish(self.channel, _encode(entry))
                await pipe.execute()
        except RedisError:
            # The entries are committed and queryable; only live delivery is missed.
            log.warning("could not publish %d audit entr(y/ies) to subscribers", len(entries))

    async def listen(self) -> AsyncIterator[AuditLog]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        try:
            while True:
                # A bounded wait per poll keeps an idle subscription clear of the
                # client's socket timeout.
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    yield _decode(message["data"])
        finally:
            await pubsub.unsubscribe(self.channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]
