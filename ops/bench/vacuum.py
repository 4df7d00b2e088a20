"""VACUUM (ANALYZE) the benchmark's database after seeding, for ops/bench/run.sh.

    python -m ops.bench.vacuum            # DATABASE_URL from the environment

A freshly seeded table has neither planner statistics nor a visibility map, and
autovacuum would start on it at some moment of the run, under whichever row is being
measured. Vacuumed first, every server meets the same, settled database."""

from __future__ import annotations

import asyncio
import os
import time

import asyncpg  # type: ignore[import-untyped]

TABLES = ("users", "user_profiles", "auth_sessions", "refresh_tokens", "audit_logs")


async def vacuum(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        for table in TABLES:
            await connection.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await connection.close()


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise SystemExit("ops/bench: DATABASE_URL is not set")
    url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    started = time.perf_counter()
    asyncio.run(vacuum(url))
    print(f"vacuumed and analyzed {', '.join(TABLES)}: {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
