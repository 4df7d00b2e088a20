"""Health endpoints: /healthz is the process, /readyz its database and Redis."""

from __future__ import annotations

from tests.support.graphql import GraphQLClient


async def test_healthz_answers_ok(client: GraphQLClient) -> None:
    reply = await client.http.get("/healthz")

    assert reply.status_code == 200 and reply.json() == {"status": "ok"}


async def test_readyz_reports_database_and_redis_reachable(client: GraphQLClient) -> None:
    reply = await client.http.get("/readyz")

    assert reply.status_code == 200
    assert reply.json()["checks"] == {"database": "ok", "redis": "ok"}
