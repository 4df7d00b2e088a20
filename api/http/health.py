"""Liveness (the process answers) and readiness (the database answers; Redis is reported).

Without PostgreSQL nothing can be served: 503, and the load balancer stops sending
traffic here. Without Redis the service still serves (the cache is bypassed, rate limits
fall back to per-process counters, revocation checks ask PostgreSQL): 200 with status
"degraded", so that a Redis outage does not take every instance out of the load balancer
at once and turn a degradation into an outage."""

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
    if checks["database"] != "ok":
        status, code = "unavailable", 503
    elif checks["redis"] != "ok":
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    return JSONResponse({"status": status, "checks": checks}, status_code=code)
