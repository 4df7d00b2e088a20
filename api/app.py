"""The ASGI application: `api.app:app`, or `create_app(settings)` for tests and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.http.auth import TokenAuthBackend
from api.http.health import healthz, readyz
from api.http.metrics_endpoint import metrics_endpoint
from api.http.middleware import RequestIdMiddleware, SecurityHeadersMiddleware
from api.http.spa import ClientApp, has_client
from api.resources import build_resources, resolve_database_url
from api.settings import Settings, get_settings

log = logging.getLogger("glassshop")


def create_app(settings: Settings | None = None, *, database_url: str | None = None) -> Starlette:
    settings = settings or get_settings()
    settings.check_deployable()

    # Only the app factory imports the GraphQL layer.
    from api.http.graphql.graphiql import (
        GRAPHIQL_ASSETS_PATH,
        GRAPHIQL_DIR,
        GraphiQLAssets,
        load_graphiql_page,
    )
    from api.http.graphql.request_budget import RequestBudgetMiddleware
    from api.http.graphql.view import GlassShopGraphQL
    from schema.root import build_schema

    graphiql = load_graphiql_page(GRAPHIQL_DIR) if settings.graphiql_enabled else None
    graphql = GlassShopGraphQL(
        build_schema(settings),
        graphiql=graphiql,
        allow_queries_via_get=True,
        max_body_bytes=settings.max_body_bytes,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        url = database_url or resolve_database_url(settings)
        resources = build_resources(settings, url)
        app.state.resources = resources
        worker = None
        if settings.redis_url is None:
            # Embedded defaults: no shared broker, so this process runs the jobs itself.
            from api.jobs.worker import EmbeddedWorker

            worker = EmbeddedWorker(settings, url, resources.jobs)
            await asyncio.to_thread(worker.start)
        if not settings.rate_limits:
            log.warning("RATE_LIMITS=off: no rate limits are enforced (benchmarks only)")
        log.info("GlassShop API ready (%s)", settings.app_env)
        try:
            yield
        finally:
            if worker is not None:
                await asyncio.to_thread(worker.stop)
            await resources.close()

    middleware = [
        Middleware(RequestIdMiddleware),
        Middleware(SecurityHeadersMiddleware, hsts=settings.is_production),
        Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=[
                "authorization",
                "content-type",
                "x-refresh-token-transport",
                "x-request-id",
                "apollo-require-preflight",
                "x-apollo-operation-name",
            ],
            expose_headers=["x-request-id"],
            max_age=600,
        ),
        # After CORS, so that a browser can read its 429.
        Middleware(RequestBudgetMiddleware),
        Middleware(AuthenticationMiddleware, backend=TokenAuthBackend()),
    ]
    routes: list[BaseRoute] = [
        # Every method reaches the view, which answers 405 with Allow in GraphQL's shape.
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
    if graphiql is not None:
        # Only where GraphiQL is on: elsewhere these paths do not exist at all.
        routes.append(Mount(GRAPHIQL_ASSETS_PATH, GraphiQLAssets(graphiql)))
    # Last: the web client answers only the paths no route above takes.
    if has_client(settings.client_dist_dir):
        routes.append(Mount("/", ClientApp(settings.client_dist_dir)))
        log.info("Serving the web client from %s at /", settings.client_dist_dir)
    else:
        log.info(
            "Not serving the web client: %s has no index.html (`npm run build` in client/)",
            settings.client_dist_dir,
        )
    application = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    # Tracing and error reporting, only where their settings turn them on.
    from api.infra.telemetry import configure_telemetry

    configure_telemetry(settings, application)
    return application


def __getattr__(name: str) -> Starlette:
    # `api.app:app` is built on first access, so importing this module reads no settings.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
