"""The Strawberry ASGI view: our typed Context for every request, and GraphQL over HTTP.

Requests and responses follow the GraphQL-over-HTTP spec, including its legacy
watershed rules: a client that accepts application/graphql-response+json gets it, with
4xx/5xx status codes for request errors; everyone else gets application/json, with 200
for every well-formed request. A request that is not a GraphQL request this server
accepts (bad method, media type, size or JSON) is a 4xx answered in the same GraphQL
error shape, with its code from schema/errors.py.

Where GraphiQL is enabled, a browser's GET gets our copy of Strawberry's GraphiQL page,
whose scripts and styles this app serves itself (GraphiQLAssets), under a policy that
lets it load nothing from anywhere else.

CSRF prevention follows Apollo Server's: POST takes only application/json, and a GET
runs only when a browser could not have sent it cross-site without a CORS preflight
(see csrf_safe). With BATCHING on, a POST body may be a JSON array of operations, run
one after the other, each in its own unit of work."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from api.authentication import identify
from api.errors import AppError, RateLimited, ServiceUnavailable, is_unavailable
from api.http.auth import request_identity
from api.http.graphql.csrf import csrf_refusal, csrf_safe
from api.http.graphql.graphiql import GraphiQLPage
from api.http.graphql.sign_in_count import count_sign_in_fields
from api.http.graphql.transport import (
    ALLOWED_METHODS,
    DEFAULT_MAX_BODY_BYTES,
    JSON,
    GraphQLSubResponse,
    TransportError,
    accepted_media_type,
    decode_json_body,
    method_not_allowed,
    request_data,
)
from api.http.request_meta import request_meta
from api.infra.persisted_queries import Registration
from api.resources import Resources
from api.settings import Settings
from api.unit_of_work import UnitOfWork
from schema.context import Context
from schema.errors import format_error

# The websocket close code for "try again later" (RFC 6455 registry): not 4403, which
# says the credentials were refused and which graphql-ws clients do not retry.
TRY_AGAIN_LATER = (1013, "Try again later")


class GlassShopWebSocketAdapter(ASGIWebSocketAdapter):
    """Closes with the code on_ws_connect chose for the connection, if it chose one."""

    async def close(self, code: int, reason: str) -> None:
        code, reason = getattr(self.ws.state, "close_with", (code, reason))
        await super().close(code, reason)


class GlassShopGraphQL(GraphQL[Context, None]):
    websocket_adapter_class = GlassShopWebSocketAdapter

    def __init__(
        self,
        *args: Any,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        graphiql: GraphiQLPage | None = None,
        **kwargs: Any,
    ) -> None:
        # Strawberry's own pages load their assets from a CDN: only ours is served.
        kwargs["graphql_ide"] = "graphiql" if graphiql else None
        # graphql-transport-ws only: the legacy subscriptions-transport-ws protocol would
        # be a second websocket API, without the per-operation checks.
        kwargs["subscription_protocols"] = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
        super().__init__(*args, **kwargs)
        self.max_body_bytes = max_body_bytes
        self.graphiql = graphiql

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, self._limit_body(receive))
        try:
            self._check_declared_length(request)
            self._prevent_csrf(request)
            response = await self.run(request)
        except HTTPException as error:
            response = self._transport_error(request, error)
        await response(scope, receive, send)

    def _check_declared_length(self, request: Request) -> None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise self._too_large()

    def _limit_body(self, receive: Receive) -> Receive:
        # A chunked body declares no length: count what arrives and stop at the limit.
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise self._too_large()
            return message

        return limited

    def _too_large(self) -> TransportError:
        return TransportError(413, f"The request body is larger than {self.max_body_bytes} bytes.")

    def _prevent_csrf(self, request: Request) -> None:
        """A GET (an operation, not GraphiQL's page) must prove it was preflighted.

        POST needs no check here: only application/json is accepted (415 otherwise),
        which is never a simple request."""
        if request.method != "GET":
            return
        if self.should_render_graphql_ide(StarletteRequestAdapter(request)):
            return
        settings: Settings = request.app.state.resources.settings
        if settings.csrf_prevention and not csrf_safe(
            request.headers, settings.csrf_preflight_headers
        ):
            raise csrf_refusal(settings.csrf_preflight_headers)

    def _transport_error(self, request: Request, error: HTTPException) -> Response:
        request_id = getattr(request.state, "request_id", None)
        cause = error.cause if isinstance(error, TransportError) else None
        located = GraphQLError(error.reason, original_error=cause)
        formatted = format_error(located, request_id).formatted
        media_type = accepted_media_type(request)
        headers = {"vary": "Accept"}
        if isinstance(error, TransportError):
            headers.update(error.headers)
        return Response(
            json_body({"errors": [formatted]}),
            status_code=error.status_code,
            media_type=media_type,
            headers=headers,
        )

    def is_request_allowed(self, request: BaseRequestProtocol) -> bool:
        if request.method not in ALLOWED_METHODS:
            raise method_not_allowed("GraphQL requests use GET or POST.", ALLOWED_METHODS)
        return True

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # Without an IDE a GET without a query is a request with no query, not a 404.
        return self.graphiql is not None and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        assert self.graphiql is not None, "should_render_graphql_ide checked"
        return HTMLResponse(
            self.graphiql.render(request.scope.get("root_path", "")),
            headers={
                "content-security-policy": self.graphiql.content_security_policy,
                # The same URL answers GraphQL requests in JSON.
                "vary": "Accept",
                "cache-control": "no-cache",
            },
        )

    def encode_json(self, data: object) -> str:
        # Text, not bytes: the websocket adapter sends bytes as binary frames, which
        # graphql-transport-ws does not use. HTTP bodies take json_body's bytes directly.
        return json_body(data).decode()

    def parse_json(self, data: str | bytes) -> Any:
        return decode_json_body(data)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "GET":
            # An empty ?variables= is how some clients say "none".
            query_params: dict[str, str | None] = {
                name: value for name, value in request.query_params.items() if value
            }
            return request_data(self.parse_query_params(query_params))
        media_type, content_parameters = parse_content_type(request.content_type or "")
        charset = content_parameters.get("charset", "utf-8").lower()
        if media_type.lower() != JSON or charset not in ("utf-8", "utf8"):
            raise TransportError(415, "Send GraphQL requests as UTF-8 application/json.")
        params = self.parse_json(await request.get_body())
        if isinstance(params, list):
            return self._batch(params)
        if not isinstance(params, dict):
            raise TransportError(400, "The request body must be a JSON object.")
        return request_data(params)

    def _batch(self, operations: list[object]) -> list[GraphQLRequestData]:
        """A JSON array of operations: refused whole unless batching is on and it holds
        1 to MAX_BATCH_OPERATIONS objects (Strawberry's batching_config)."""
        config = self.schema.config.batching_config
        if config is None:
            raise TransportError(400, "Batching is not enabled.")
        if not operations:
            raise TransportError(400, "A batch must hold at least one operation.")
        if len(operations) > config["max_operations"]:
            raise TransportError(
                400, f"A batch may hold at most {config['max_operations']} operations."
            )
        if not all(isinstance(operation, dict) for operation in operations):
            raise TransportError(400, "Each operation of a batch must be a JSON object.")
        return [request_data(cast(dict[str, object], operation)) for operation in operations]

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult]:
        """Everything a request is refused for is checked before any operation runs;
        then a batch runs its operations one after the other (Strawberry's own batching
        runs them at once, on one shared context), each with a context, a unit of work
        and a database session of its own, so each commits or rolls back on its own."""
        batch = request_data if isinstance(request_data, list) else [request_data]
        settings = context.resources.settings
        # REQUEST_TIMEOUT bounds the request, not each operation of a batch.
        deadline = asyncio.get_running_loop().time() + settings.request_timeout_seconds
        sub_response.headers["cache-control"] = self._cache_control(request, settings)
        if len(batch) > 1:
            await self._charge_batch(request, context, len(batch))
        registered: dict[str, str] = {}
        resolved = [
            await self._resolve_query(context, data, sub_response, registered) for data in batch
        ]
        queries = [query for query, _ in resolved]
        sign_ins = sum(
            count_sign_in_fields(query, data.operation_name, settings.max_tokens)
            for query, data in zip(queries, batch, strict=True)
            if not isinstance(query, ExecutionResult)
        )
        if sign_ins > 1:
            raise TransportError(400, "A request may call login, register or refresh only once.")
        if not isinstance(request_data, list):
            return await self._execute(
                request_adapter, context, request_data, resolved[0], deadline
            )
        if any(not query for query in queries):
            raise TransportError(400, "Every operation of a batch needs a GraphQL query.")
        results = []
        for index, (data, one) in enumerate(zip(batch, resolved, strict=True)):
            # The first operation has the request's context; OperationScope ends each
            # one's unit of work, so every further operation gets a fresh context.
            own = context if index == 0 else await self.get_context(request, sub_response)
            results.append(await self._execute(request_adapter, own, data, one, deadline))
        return results

    async def _charge_batch(self, request: Request, context: Context, size: int) -> None:
        """A batch of N costs N from the per-IP request budget: the middleware charged
        one, this the rest, so batching is no way around the budget."""
        host = request.client.host if request.client else None
        try:
            await context.resources.rate_limiter.spend_request_budget(host, amount=size - 1)
        except RateLimited as limited:
            raise TransportError(
                429,
                limited.message,
                {"retry-after": str(limited.retry_after)},
                cause=limited,
            ) from limited

    async def _resolve_query(
        self,
        context: Context,
        request_data: GraphQLRequestData,
        sub_response: Response,
        registered: dict[str, str],
    ) -> tuple[str | ExecutionResult | None, Registration | None]:
        """The operation's document, from the persisted-query store when it is sent by
        hash (APQ, also inside a batch), and the registration to store once it has run
        valid when it came with its hash; an ExecutionResult with the error when the
        hash is unknown or does not match."""
        persisted = (request_data.extensions or {}).get("persistedQuery")
        if persisted is None:
            return request_data.query, None
        try:
            found = await context.resources.persisted_queries.resolve(
                request_data.query, persisted, registered
            )
        except AppError as error:
            # Apollo's link resends the full query on this 200 answer; never cache it.
            sub_response.headers["cache-control"] = "private, no-cache"
            located = GraphQLError(error.message, original_error=error)
            return ExecutionResult(data=None, errors=[format_error(located)]), None
        if found.registration is not None:
            # A later operation of the same batch may send only its hash.
            registered[found.registration.sha256] = found.registration.query
        return found.query, found.registration

    async def _execute(
        self,
        request_adapter: AsyncHTTPRequestAdapter,
        context: Context,
        request_data: GraphQLRequestData,
        resolved: tuple[str | ExecutionResult | None, Registration | None],
        deadline: float,
    ) -> ExecutionResult:
        query, registration = resolved
        if isinstance(query, ExecutionResult):
            return query
        result = await self._run(request_adapter, context, request_data, query, deadline)
        if registration is not None and not _is_request_error(result):
            # Parsed, validated and within the limits: worth storing for its hash.
            await context.resources.persisted_queries.register(
                registration, context.uow.meta.ip_address
            )
        return result

    async def _run(
        self,
        request_adapter: AsyncHTTPRequestAdapter,
        context: Context,
        request_data: GraphQLRequestData,
        query: str | None,
        deadline: float,
    ) -> ExecutionResult:
        method = request_adapter.method
        # Subscriptions stream over the WebSocket only: this view has no HTTP streaming
        # transport, and executed here a subscription resolver would run as a query.
        allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
        if asyncio.get_running_loop().time() >= deadline:
            # A batch's earlier operations used the time up; a quick operation might
            # finish without ever giving the timeout a chance to fire.
            return _timed_out()
        try:
            async with asyncio.timeout_at(deadline):
                return await self.schema.execute(
                    query,
                    root_value=None,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=allowed,
                    operation_extensions=request_data.extensions,
                )
        except TimeoutError:
            # The unit of work rolled back when the operation was cancelled.
            return _timed_out()
        except MissingQueryError as error:
            raise TransportError(400, "The request has no GraphQL query.") from error
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                return _request_error("Subscribe over the WebSocket (graphql-transport-ws).")
            if method == "GET":
                raise method_not_allowed("Send mutations with POST.", ["POST"]) from error
            return _request_error(error.as_http_error_reason(method))
        except CannotGetOperationTypeError as error:
            return _request_error(error.as_http_error_reason())

    @staticmethod
    def _cache_control(request: Request, settings: Settings) -> str:
        """Anonymous GET queries (persisted ones in particular) may be cached briefly by
        shared caches; anything with credentials or sent by POST is never stored."""
        anonymous = "authorization" not in request.headers
        if request.method == "GET" and anonymous and settings.public_cache_seconds:
            return f"public, max-age={settings.public_cache_seconds}"
        return "private, no-store"

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        return GraphQLSubResponse(accepted_media_type(request))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws connection_init: browsers cannot set headers on a
        websocket, so the access token comes in the payload (`authorization:
        "Bearer …"`). Only staff may connect (the only subscription is staff-only); each
        operation sent later is checked again on its own (schema/operation_scope.py).
        When the token cannot be checked now (PostgreSQL down, the budget spent), the
        socket closes with 1013, which graphql-ws clients retry, not with 4403."""
        params = context.connection_params or {}
        raw = params.get("authorization") or params.get("Authorization")
        if isinstance(raw, str) and raw.strip():
            scheme, _, token = raw.strip().partition(" ")
            context.bearer = token.strip() if scheme.lower() == "bearer" else raw.strip()
        try:
            await context.resources.rate_limiter.spend_request_budget(context.uow.meta.ip_address)
            context.identity = await identify(context.resources, context.bearer)
            if context.identity.token_unchecked:
                raise ServiceUnavailable()
            viewer = None
            if context.identity.user_id is not None:
                viewer = await context.loaders.user.load(context.identity.user_id)
            await context.next_event()
        except Exception as error:
            if isinstance(error, ServiceUnavailable | RateLimited) or is_unavailable(error):
                context.request.state.close_with = TRY_AGAIN_LATER
            raise ConnectionRejectionError() from error
        if viewer is None or not viewer.can_sign_in or not viewer.is_staff:
            raise ConnectionRejectionError()
        return cast(UnsetType, UNSET)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        resources: Resources = request.app.state.resources
        meta = request_meta(request)
        return Context(
            request=request,
            response=response if isinstance(response, Response) else None,
            resources=resources,
            identity=request_identity(request),
            uow=UnitOfWork(resources.database, meta, publish_audit=resources.audit_feed.publish),
            is_connection=isinstance(request, WebSocket),
        )

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # Errors raised outside the operation's extensions (rare) get the same mapping.
        if result.errors:
            request_id = getattr(request.state, "request_id", None)
            result.errors = [format_error(e, request_id) for e in result.errors]
        response = await super().process_result(request, result)  # type: ignore[arg-type]
        if _is_request_error(result):
            # The GraphQL spec: a request error ends the request before execution, and
            # its response has no data entry at all (null would mean execution failed).
            del response["data"]
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = (
            sub_response.negotiated_media_type
            if isinstance(sub_response, GraphQLSubResponse)
            else JSON
        )
        response = Response(
            json_body(response_data),
            status_code=sub_response.status_code or _status_code(response_data, media_type),
            media_type=media_type,
            # A shared cache must not answer a signed-in request with an anonymous reply.
            headers={"vary": "Accept, Authorization"},
            background=sub_response.background,
        )
        response.headers.raw.extend(sub_response.headers.raw)
        return response


def json_body(data: object) -> bytes:
    """orjson, several times faster than json; json only for what orjson refuses (an
    integer beyond 64 bits inside a JSON value a client stored)."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode()


def _timed_out() -> ExecutionResult:
    timed_out = ServiceUnavailable("The request took too long and was stopped.")
    located = GraphQLError(timed_out.message, original_error=timed_out)
    return ExecutionResult(data=None, errors=[format_error(located)])


def _request_error(message: str) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message)])


def _is_request_error(result: ExecutionResult) -> bool:
    # Field errors always carry a path; errors without one stopped the request before
    # any field ran (parse, validation, operation selection, variable coercion).
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _status_code(
    response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], media_type: str
) -> int:
    if media_type == JSON or isinstance(response_data, list) or "data" in response_data:
        return 200
    codes = {
        error.get("extensions", {}).get("code")
        for error in response_data.get("errors") or ()
        if isinstance(error, dict)
    }
    return 500 if "INTERNAL_SERVER_ERROR" in codes else 400
