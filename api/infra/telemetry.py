"""Optional tracing (OpenTelemetry) and error reporting (Sentry), enabled by settings only.

OTEL_ENABLED=true, or an OTEL_EXPORTER_OTLP_ENDPOINT, turns on spans per GraphQL operation
and resolver (Strawberry's OpenTelemetryExtension, wired by schema/root.py) and per SQL
statement (opentelemetry-instrumentation-sqlalchemy on the API's engine), exported over
OTLP/HTTP, under a span per HTTP request (HttpSpans). SENTRY_DSN turns on Sentry. Their
packages are the `observability` extra and are imported only when enabled: without them
the API starts as long as both are off.

Nothing secret leaves: resolver arguments are not recorded, nor the query text (a client
may inline a password), and SQL spans carry the statement with placeholders, never the
values. Sentry gets no default PII and no stack frame variables (a resolver's hold the
password it was given), and `scrub_event` removes request bodies, cookies and the
Authorization header from every event."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from api.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("glassshop.telemetry")

# Request headers never sent to Sentry (lower case).
SECRET_HEADERS = frozenset(
    {"authorization", "cookie", "set-cookie", "proxy-authorization", "x-refresh-token"}
)


@dataclass
class _State:
    provider: TracerProvider | None = None
    sentry: bool = False


# One tracer provider and one Sentry client per process; set by configure_telemetry.
_state = _State()


def configure_telemetry(
    settings: Settings, app: Starlette | None = None, *, span_exporter: SpanExporter | None = None
) -> None:
    """Turn on what the settings ask for. `span_exporter` replaces the OTLP exporter
    (tests pass an in-memory one); with `app`, its engine is traced once it exists."""
    if settings.tracing_enabled:
        _state.provider = _tracer_provider(settings, span_exporter)
        if app is not None:
            _trace_engine_of(app)
            app.add_middleware(HttpSpans)
        log.info("OpenTelemetry tracing on (%s)", settings.otel_endpoint or "no OTLP endpoint")
    if settings.sentry_dsn is not None:
        _init_sentry(settings)
        log.info("Sentry error reporting on")


def shutdown_telemetry() -> None:
    """Flush and stop the exporters (spans in flight, queued Sentry events)."""
    provider, _state.provider = _state.provider, None
    if provider is not None:
        provider.shutdown()
    if _state.sentry:
        import sentry_sdk

        _state.sentry = False
        sentry_sdk.flush(timeout=5)
        sentry_sdk.get_client().close()


def tracing_extension() -> Callable[[], Any]:
    """A factory of the Strawberry extension that traces operations and resolvers."""
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class Tracing(OpenTelemetryExtension):
        def on_operation(self) -> Generator[None, None, None]:
            # The operation span is started without the query text (it may hold a
            # password inlined by a client); the variables are never recorded.
            context = self.execution_context
            query, context.query = context.query, None
            steps = super().on_operation()
            try:
                next(steps)
            finally:
                context.query = query
            yield
            with contextlib.suppress(StopIteration):
                next(steps)

    def without_arguments(arguments: dict[str, Any], info: Any) -> dict[str, Any]:
        return {}

    def build() -> Tracing:
        return Tracing(arg_filter=without_arguments, tracer_provider=_state.provider)

    return build


def trace_engine(engine: AsyncEngine) -> None:
    """SQL spans for every statement of `engine` (statement text with placeholders)."""
    if _state.provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeterProvider

    tracer = _state.provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
    usage = (
        NoOpMeterProvider()
        .get_meter("glassshop")
        .create_up_down_counter("db.client.connections.usage")
    )
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]


# Span attributes that hold the URL's query string (old and new HTTP conventions).
_URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")


class HttpSpans:
    """A span per HTTP request around everything else (authentication's SQL included),
    continuing the caller's trace from its `traceparent` header: OpenTelemetry's ASGI
    middleware, built with this process's provider when Starlette builds its middleware
    stack at start-up. URLs are recorded without their query string: a GET may carry a
    whole GraphQL document with its variables, and a client may have put a password in
    one (the request is refused, but the URL would still be recorded)."""

    def __init__(self, app: ASGIApp) -> None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        self.app = OpenTelemetryMiddleware(
            app,
            tracer_provider=_state.provider,
            exclude_spans=["receive", "send"],
            server_request_hook=_without_query_string,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _without_query_string(span: Any, scope: dict[str, Any]) -> None:
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            if name == "url.query":
                span.set_attribute(name, "")
            else:
                span.set_attribute(name, value.split("?", 1)[0])


def _tracer_provider(settings: Settings, exporter: SpanExporter | None) -> TracerProvider:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif settings.otel_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def _trace_engine_of(app: Starlette) -> None:
    """Wraps the app's lifespan: the engine is built there, after the app."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Starlette) -> AsyncIterator[Any]:
        async with inner(application) as state:
            trace_engine(application.state.resources.engine)
            yield state

    app.router.lifespan_context = lifespan


def _init_sentry(settings: Settings) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.starlette import StarletteIntegration

    assert settings.sentry_dsn is not None
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.app_env,
        # No PII: send_default_pii's default (False), not passed since sentry-sdk
        # deprecated it. Its successor, data_collection, is left unset: setting it
        # opts into collecting most categories.
        # A stack frame's variables hold what the resolver was given: passwords, tokens.
        include_local_variables=False,
        max_request_body_size="never",
        # Unexpected GraphQL errors arrive once each, as the error that schema/errors.py
        # logs with the exception (the default logging integration). The Strawberry
        # integration is left out: it reports every one of them a second time.
        integrations=[StarletteIntegration()],
        auto_enabling_integrations=False,
        before_send=scrub_event,
    )
    _state.sentry = True


def scrub_event(event: Any, hint: Any) -> Any:
    """Sentry's before_send: no request body, cookies or credentials headers."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        # A GET carries its GraphQL document and variables in the query string.
        request.pop("query_string", None)
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() not in SECRET_HEADERS
            }
    return event
