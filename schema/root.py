"""Merges the domains' Query and Mutation types and wires the extensions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from api.settings import Settings
from schema.accounts.email_mutations import EmailFlowMutations
from schema.accounts.mutations import AccountMutations
from schema.accounts.queries import AccountQueries
from schema.accounts.types import SessionType, UserType
from schema.audit.queries import AuditQueries
from schema.audit.subscriptions import AuditSubscriptions
from schema.audit.types import AuditLogType
from schema.context import Context
from schema.errors import ErrorCodes, coded_stream
from schema.node import NodeQueries
from schema.observability import Observe
from schema.operation_scope import OperationScope
from schema.operation_selection import OperationSelection
from schema.profiles.mutations import ProfileMutations
from schema.profiles.types import UserProfileType
from schema.query_limits import cost_limit, document_rules
from schema.scalars import SCALAR_OVERRIDES
from schema.users.mutations import UserMutations
from schema.users.queries import UserQueries
from schema.validation_cache import ValidDocuments, validation_cache

Query = merge_types("Query", (AccountQueries, UserQueries, AuditQueries, NodeQueries))
Mutation = merge_types(
    "Mutation", (AccountMutations, EmailFlowMutations, ProfileMutations, UserMutations)
)


class GlassShopSchema(strawberry.Schema):
    # The document texts this schema has found valid (schema/validation_cache.py).
    valid_documents: ValidDocuments

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Expected errors (bad input, failed logins) are not server faults; ErrorCodes
        # logs the unexpected ones with their request id.
        return

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        if isinstance(context_value, Context) and context_value.is_connection:
            # A websocket's operations each run with a context of their own, checked
            # again by OperationScope before they execute.
            context_value = context_value.for_operation()
        results = await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )
        meta = getattr(getattr(context_value, "uow", None), "meta", None)
        return coded_stream(results, getattr(meta, "request_id", None))


def build_schema(settings: Settings | None = None) -> GlassShopSchema:
    """The schema with the request limits and policies of `settings` (defaults without)."""
    s = settings or Settings()
    known = ValidDocuments()
    rules = document_rules(
        max_depth=s.max_query_depth,
        max_aliases=s.max_aliases,
        max_directives=s.max_directives,
        max_document_chars=s.max_document_chars,
    )
    # Factories, not instances: an extension keeps per-request state, so each
    # request gets its own.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        # First in, last out: it sees the errors after ErrorCodes has mapped them.
        Observe,
        OperationScope,
        OperationSelection,
        partial(ErrorCodes, hide_suggestions=not s.suggestions_enabled),
        cost_limit(s.max_query_cost),
        # Also the token limit and the document limit rules, for texts it does not know.
        validation_cache(known, rules=rules, max_tokens=s.max_tokens),
    ]
    if not s.introspection_enabled:
        extensions.append(DisableIntrospection)
    if s.tracing_enabled:
        # Spans per operation and resolver (api/infra/telemetry.py, the `observability` extra).
        from api.infra.telemetry import tracing_extension

        extensions.append(tracing_extension())
    built = GlassShopSchema(
        query=Query,
        mutation=Mutation,
        subscription=AuditSubscriptions,
        # Node implementations reached only through Query.node.
        types=[UserType, UserProfileType, AuditLogType, SessionType],
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
        # Strawberry's batching switch; api/http/graphql/view.py runs the operations one by one.
        config=StrawberryConfig(
            batching_config={"max_operations": s.max_batch_operations} if s.batching else None
        ),
    )
    built.valid_documents = known
    return built


# The SDL (schema.graphql) does not depend on settings.
schema = build_schema()
