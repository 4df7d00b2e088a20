"""OpenTelemetry, when the settings enable it: a span per operation, per resolver and per SQL
statement, and not one attribute carrying a password or a token."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from api.app import create_app
from api.infra.telemetry import configure_telemetry, shutdown_telemetry
from api.settings import PROJECT_ROOT, Settings
from tests.support.graphql import DEFAULT_PASSWORD, GraphQLClient

ME = "query Me { me { id email } }"


@dataclass
class Traced:
    client: GraphQLClient
    spans: InMemorySpanExporter


@pytest.fixture
async def traced(settings: Settings) -> AsyncIterator[Traced]:
    enabled = settings.model_copy(update={"otel_enabled": True})
    app = create_app(enabled)
    # The same setup the app ran, with an in-memory exporter in place of OTLP.
    exporter = InMemorySpanExporter()
    configure_telemetry(enabled, span_exporter=exporter)
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
                yield Traced(GraphQLClient(http), exporter)
    finally:
        shutdown_telemetry()


def names(spans: tuple[ReadableSpan, ...]) -> list[str]:
    return [span.name for span in spans]


def attribute_values(spans: tuple[ReadableSpan, ...]) -> str:
    return "\n".join(
        f"{span.name} {key}={value!r}"
        for span in spans
        for key, value in (span.attributes or {}).items()
    )


async def test_a_me_query_has_an_operation_span_and_a_resolver_span(traced: Traced) -> None:
    account = await traced.client.register("ada@example.com")
    traced.spans.clear()

    (await traced.client.execute(ME, token=account.access_token)).ok()

    spans = traced.spans.get_finished_spans()
    assert "GraphQL Query: Me" in names(spans)
    assert "GraphQL Resolving: me" in names(spans)


async def test_a_me_query_has_sql_spans_under_its_resolver(traced: Traced, redis: Redis) -> None:
    account = await traced.client.register("ada@example.com")
    await redis.flushdb()  # nothing cached: the user is read from PostgreSQL
    traced.spans.clear()

    (await traced.client.execute(ME, token=account.access_token)).ok()

    spans = traced.spans.get_finished_spans()
    resolver = next(span for span in spans if span.name == "GraphQL Resolving: me")
    under_resolver = [
        str((span.attributes or {}).get("db.statement"))
        for span in spans
        if span.parent is not None and span.parent.span_id == resolver.context.span_id
    ]
    assert any(statement.startswith("SELECT users.id") for statement in under_resolver), names(
        spans
    )


async def test_no_span_carries_a_password_or_a_token(traced: Traced) -> None:
    account = await traced.client.register("ada@example.com")
    # A password inlined in the query text, not only in variables.
    inline = (
        'mutation { login(input: {email: "ada@example.com", '
        f'password: "{DEFAULT_PASSWORD}"}}) {{ accessToken }} }}'
    )
    login = (await traced.client.execute(inline)).ok()
    (await traced.client.execute(ME, token=account.access_token)).ok()

    spans = traced.spans.get_finished_spans()
    recorded = attribute_values(spans)
    assert "GraphQL Resolving: login" in names(spans)
    assert DEFAULT_PASSWORD not in recorded
    assert account.access_token not in recorded
    assert account.refresh_token not in recorded
    assert login["login"]["accessToken"] not in recorded


def http_span(spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    """The request's span: the one without a parent of this process."""
    return next(span for span in spans if span.name.startswith(("POST", "GET")))


async def test_an_operation_span_is_a_child_of_its_http_request_span(traced: Traced) -> None:
    account = await traced.client.register("ada@example.com")
    traced.spans.clear()

    (await traced.client.execute(ME, token=account.access_token)).ok()

    spans = traced.spans.get_finished_spans()
    operation = next(span for span in spans if span.name == "GraphQL Query: Me")
    assert operation.parent is not None
    assert operation.parent.span_id == http_span(spans).context.span_id


async def test_a_request_continues_the_callers_trace(traced: Traced) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}

    await traced.client.http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)

    assert f"{http_span(traced.spans.get_finished_spans()).context.trace_id:032x}" == trace_id


async def test_a_request_url_is_recorded_without_its_query_string(traced: Traced) -> None:
    # A client's mistake: a login over GET, its password in the URL (refused with 405).
    password = "Tr0ub4dor-in-a-URL"
    document = f'mutation {{ login(input: {{email: "a@example.com", password: "{password}"}}) }}'
    response = await traced.client.http.get(
        "/graphql", params={"query": document}, headers={"apollo-require-preflight": "1"}
    )
    assert response.status_code == 405

    spans = traced.spans.get_finished_spans()
    assert (http_span(spans).attributes or {}).get("http.url") == "https://t/graphql"
    assert password not in attribute_values(spans)


def test_with_tracing_and_sentry_off_the_app_is_built_without_their_packages() -> None:
    # As if the `observability` extra were not installed: importing either fails.
    probe = (
        "import sys\n"
        "sys.modules.update(dict.fromkeys(['opentelemetry', 'sentry_sdk']))\n"
        "from api.app import create_app\n"
        "from api.settings import Settings\n"
        "create_app(Settings(app_env='test'))\n"
        "print('built')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "built"
