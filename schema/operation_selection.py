"""Which operation of a document runs, as the GraphQL spec's GetOperation says: the
one named by operationName, or the document's only operation. Strawberry would run the
first of several unnamed-in-the-request operations; a document with several
operations and no operationName is refused instead, before anything executes, so that
what was checked (the sign-in count, the cost) is what runs."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

OPERATION_NAME_REQUIRED = (
    "The document holds several operations: name the one to run in operationName."
)


def requested_operation_name(context: ExecutionContext) -> str | None:
    """The operationName the request sent. (ExecutionContext.operation_name falls back to
    the first operation's name; tests/api/test_strawberry_view_contract.py pins this.)"""
    name: str | None = context._provided_operation_name
    return name


class OperationSelection(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and requested_operation_name(context) is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                raise GraphQLError(OPERATION_NAME_REQUIRED)
        yield
