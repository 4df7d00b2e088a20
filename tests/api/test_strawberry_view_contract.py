"""GlassShopGraphQL overrides Strawberry view methods beyond the documented hooks
(get_context, process_result, on_ws_connect, encode_json/decode_json) and calls some of
its internals. Each is pinned here as the installed Strawberry declares it, so an
upgrade that changes one fails here, loudly and by name, rather than somewhere in the
HTTP tests. After checking the view against a changed signature, update the pin (and
the upper bound on strawberry-graphql in pyproject.toml)."""

from __future__ import annotations

import inspect

import pytest
from graphql import parse
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.schema import Schema
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from api.http.graphql.view import GlassShopGraphQL, GlassShopWebSocketAdapter
from schema.operation_selection import requested_operation_name
from schema.root import schema

# Upstream signatures the view was written against (strawberry-graphql 0.341).
PINNED = {
    "__call__": "(self, scope: 'Scope', receive: 'Receive', send: 'Send') -> 'None'",
    "is_request_allowed": "(self, request: strawberry.http.base.BaseRequestProtocol) -> bool",
    "should_render_graphql_ide": "(self, request: strawberry.http.base.BaseRequestProtocol) -> bool",
    "render_graphql_ide": "(self, request: 'Request') -> 'Response'",
    "parse_json": "(self, data: str | bytes) -> Any",
    "parse_http_body": "(self, request: cross_web.request._base.AsyncHTTPRequestAdapter) -> strawberry.http.GraphQLRequestData | list[strawberry.http.GraphQLRequestData]",
    "execute_operation": "(self, request: -Request, request_adapter: cross_web.request._base.AsyncHTTPRequestAdapter, request_data: strawberry.http.GraphQLRequestData | list[strawberry.http.GraphQLRequestData], context: ~Context, root_value: Optional[~RootValue], sub_response: ~SubResponse) -> strawberry.types.execution.ExecutionResult | list[strawberry.types.execution.ExecutionResult] | strawberry.types.execution.SubscriptionExecutionResult",
    "get_sub_response": "(self, request: 'Request | WebSocket') -> 'Response'",
    "on_ws_connect": "(self, context: ~Context) -> strawberry.types.unset.UnsetType | dict[str, object] | None",
    "get_context": "(self, request: 'Request | WebSocket', response: 'Response | WebSocket') -> 'Context'",
    "process_result": "(self, request: -Request, result: strawberry.types.execution.ExecutionResult) -> strawberry.http.GraphQLHTTPResponse",
    "create_response": "(self, response_data: 'GraphQLHTTPResponse | list[GraphQLHTTPResponse]', sub_response: 'Response') -> 'Response'",
    "__init__": "(self, schema: 'BaseSchema', graphql_ide: 'GraphQL_IDE | None' = 'graphiql', allow_queries_via_get: 'bool' = True, keep_alive: 'bool' = False, keep_alive_interval: 'float' = 1, subscription_protocols: 'Sequence[str]' = ('graphql-transport-ws', 'graphql-ws'), connection_init_wait_timeout: 'timedelta' = datetime.timedelta(seconds=60), multipart_uploads_enabled: 'bool' = False, max_subscriptions_per_connection: 'int | None' = 100, allowed_origins: 'Sequence[str]' = ()) -> 'None'",
    "run": "(self, request: Union[-Request, ~WebSocketRequest], context: ~Context = UNSET, root_value: Optional[~RootValue] = UNSET) -> Union[~Response, ~WebSocketResponse]",
    "parse_query_params": "(self, params: collections.abc.Mapping[str, str | None]) -> dict[str, typing.Any]",
    "encode_json": "(self, data: object) -> str | bytes",
    "Schema.execute": "(self, query: 'str | None', variable_values: 'dict[str, Any] | None' = None, context_value: 'Any | None' = None, root_value: 'Any | None' = None, operation_name: 'str | None' = None, allowed_operation_types: 'Iterable[OperationType] | None' = None, operation_extensions: 'dict[str, Any] | None' = None) -> 'ExecutionResult'",
}


def upstream(name: str) -> object:
    return (
        getattr(Schema, name.split(".")[1])
        if name.startswith("Schema.")
        else getattr(GraphQL, name)
    )


@pytest.mark.parametrize("name", sorted(PINNED))
def test_upstream_signature_is_the_pinned_one(name: str) -> None:
    found = str(inspect.signature(upstream(name)))  # type: ignore[arg-type]
    assert found == PINNED[name], f"Strawberry changed {name}: review the view's use of it"


def overridden() -> list[str]:
    return sorted(
        name
        for name, value in vars(GlassShopGraphQL).items()
        if inspect.isfunction(value) and any(name in vars(base) for base in GraphQL.__mro__)
    )


def test_every_override_is_pinned() -> None:
    assert set(overridden()) <= set(PINNED)


@pytest.mark.parametrize("name", [n for n in overridden() if n != "__init__"])
def test_an_override_takes_the_parameters_strawberry_passes(name: str) -> None:
    ours = inspect.signature(getattr(GlassShopGraphQL, name)).parameters
    theirs = inspect.signature(getattr(GraphQL, name)).parameters
    assert [(p.name, p.kind) for p in ours.values()] == [(p.name, p.kind) for p in theirs.values()]


def test_the_websocket_adapter_class_is_the_one_strawberry_uses() -> None:
    # The view attribute Strawberry reads to wrap each websocket.
    assert "websocket_adapter_class" in vars(GraphQL)
    assert GlassShopGraphQL.websocket_adapter_class is GlassShopWebSocketAdapter
    assert issubclass(GlassShopWebSocketAdapter, ASGIWebSocketAdapter)


def test_the_requested_operation_name_is_what_the_request_sent() -> None:
    # schema/operation_selection.py reads it: operation_name itself falls back to the
    # document's first operation.
    document = "query A { __typename } query B { __typename }"
    every = set(OperationType)
    unnamed = ExecutionContext(document, schema, every, provided_operation_name=None)
    named = ExecutionContext(document, schema, every, provided_operation_name="B")
    unnamed.graphql_document = named.graphql_document = parse(document)

    assert (requested_operation_name(unnamed), unnamed.operation_name) == (None, "A")
    assert requested_operation_name(named) == "B"
