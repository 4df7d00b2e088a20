"""Reconciles the client's log of acknowledged writes with PostgreSQL.

What can be claimed, given that each account was written by one client, one request at
a time, and that a write counts as acknowledged only when its reply came back without
errors:

- every acknowledged registration is one user row (nothing lost, nothing duplicated),
  and no user of this run exists that the client did not see registered;
- each account's address is the value of its last acknowledged `updateProfile`;
- per audit action, the run's accounts have exactly as many audit rows as the client
  saw writes of that kind succeed (and no rows of any other action);
- the outbox drained: no row of the run is still pending.

A write whose outcome the client does not know (no reply, or an error) makes that
account's figures uncertain; the summary lists such writes, and the soak fails anyway
on any of them."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from api.settings import normalize_database_url
from ops.soak.load import AUDITED


def read_log(path: Path) -> list[dict[str, Any]]:
    with path.open() as lines:
        return [json.loads(line) for line in lines if line.strip()]


async def reconcile(
    database_url: str, prefix: str, log_path: Path, *, drain_within: float = 60
) -> dict[str, Any]:
    """The checks' findings: `violations` (empty when everything reconciles) and counts."""
    entries = read_log(log_path)
    registered = Counter(e["email"] for e in entries if e["kind"] == "register")
    last_address: dict[str, str] = {}
    for entry in entries:
        if entry["kind"] == "update_profile":
            last_address[entry["email"]] = entry["value"]
    acknowledged = Counter(AUDITED[e["kind"]] for e in entries)

    violations: list[str] = []
    engine = create_async_engine(normalize_database_url(database_url))
    try:
        async with engine.connect() as db:
            params = {"prefix": prefix}
            users = {
                row.email: row.n
                for row in await db.execute(
                    text(
                        "SELECT email, count(*) AS n FROM users "
                        "WHERE starts_with(email, :prefix) GROUP BY email"
                    ),
                    params,
                )
            }
            addresses = {
                row.email: row.address
                for row in await db.execute(
                    text(
                        "SELECT u.email, p.address FROM users u "
                        "LEFT JOIN user_profiles p ON p.user_id = u.id "
                        "WHERE starts_with(u.email, :prefix)"
                    ),
                    params,
                )
            }
            audited = Counter(
                {
                    row.action: row.n
                    for row in await db.execute(
                        text(
                            "SELECT a.action, count(*) AS n FROM audit_logs a "
                            "JOIN users u ON u.id = a.user_id "
                            "WHERE starts_with(u.email, :prefix) GROUP BY a.action"
                        ),
                        params,
                    )
                }
            )
            pending = await _pending_after_drain(db, prefix, drain_within)
    finally:
        await engine.dispose()

    duplicated_in_log = sorted(email for email, n in registered.items() if n > 1)
    missing = sorted(email for email in registered if email not in users)
    duplicated = sorted(email for email, n in users.items() if n > 1)
    unexpected = sorted(email for email in users if email not in registered)
    wrong_address = sorted(
        email for email, value in last_address.items() if addresses.get(email) != value
    )
    for what, emails in (
        ("registered twice in the client log", duplicated_in_log),
        ("acknowledged registrations missing from the database", missing),
        ("users present more than once", duplicated),
        ("users in the database the client never saw registered", unexpected),
        ("accounts whose address is not their last acknowledged write", wrong_address),
    ):
        if emails:
            violations.append(f"{len(emails)} {what}: {emails[:5]}")
    for action in sorted(set(acknowledged) | set(audited)):
        if acknowledged[action] != audited[action]:
            violations.append(
                f"audit {action}: {audited[action]} rows, {acknowledged[action]} acknowledged"
            )
    if pending:
        violations.append(f"{pending} outbox rows of the run still pending")
    return {
        "violations": violations,
        "users_acknowledged": len(registered),
        "users_in_database": sum(users.values()),
        "profiles_checked": len(last_address),
        "audit_rows": dict(sorted(audited.items())),
        "audit_acknowledged": dict(sorted(acknowledged.items())),
        "outbox_pending": pending,
    }


async def _pending_after_drain(db: Any, prefix: str, within: float) -> int:
    """Outbox rows of the run's users still pending after waiting up to `within` s."""
    sql = text(
        "SELECT count(*) FROM outbox_messages o JOIN users u "
        "ON u.id::text = o.payload->>'user_id' "
        "WHERE o.status = 'pending' AND starts_with(u.email, :prefix)"
    )
    deadline = time.monotonic() + within
    while True:
        pending: int = (await db.execute(sql, {"prefix": prefix})).scalar_one()
        await db.rollback()  # a fresh snapshot for the next look
        if pending == 0 or time.monotonic() > deadline:
            return pending
        await asyncio.sleep(1)
