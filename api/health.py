"""Liveness (the process answers) and readiness (the database and Redis answer)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.resources import Resources

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _database(resources: Resources) -> None:
    async with resources.engine.connect() as connection:
        await connection.execute(text("select 1"))


async def _redis(resources: Resources) -> None:
    await resources.redis.ping()


async def readyz(request: Request) -> JSONResponse:
    resources: Resources = request.app.state.resources
    checks = {}
    for name, probe in (("database", _database), ("redis", _redis)):
        try:
            await asyncio.wait_for(probe(resources), CHECK_TIMEOUT_SECONDS)
            checks[name] = "ok"
        except Exception:  # any failure means "not ready"; the reason is for logs, not clients
            checks[name] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
