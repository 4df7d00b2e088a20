"""/metrics: Prometheus text for loopback and configured networks, nothing for others."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from tests.support.graphql import GraphQLClient


async def scrape(app: Starlette, client_ip: str = "127.0.0.1") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        return await http.get("/metrics")


async def test_metrics_count_operations_by_type_and_root_field(
    client: GraphQLClient, app: Starlette
) -> None:
    await client.register("ada@example.com")
    await client.execute("{ me { id } }")

    body = (await scrape(app)).text

    assert 'glassshop_graphql_operations_total{operation="mutation:register"}' in body
    assert 'glassshop_graphql_operations_total{operation="query:me"}' in body
    assert "glassshop_graphql_operation_seconds_bucket" in body


async def test_metrics_count_errors_by_code(client: GraphQLClient, app: Starlette) -> None:
    await client.execute("{ me { nope } }")

    body = (await scrape(app)).text

    assert 'glassshop_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}' in body


async def test_metrics_report_pool_cache_rate_limits_and_outbox(app: Starlette) -> None:
    body = (await scrape(app)).text

    for name in (
        "glassshop_db_connections_in_use",
        "glassshop_cache_hit_ratio",
        "glassshop_cache_lookups_total",
        "glassshop_rate_limit_rejections_total",
        "glassshop_outbox_pending",
    ):
        assert name in body, name


async def test_metrics_are_hidden_from_other_networks(app: Starlette) -> None:
    reply = await scrape(app, client_ip="203.0.113.7")

    assert reply.status_code == 404
    assert "glassshop" not in reply.text


async def test_operation_names_chosen_by_clients_do_not_become_labels(
    client: GraphQLClient, app: Starlette
) -> None:
    await client.execute("query AnyNameAtAll { me { id } }")

    body = (await scrape(app)).text

    assert "AnyNameAtAll" not in body
