"""Scalars whose stock Strawberry definitions the schema replaces (schema/root.py passes
SCALAR_OVERRIDES), so that every field and argument of the type gets the change.

JSON: a literal written into the document may hold variables (`{theme: $theme}`). The
stock scalar reads a variable that was not sent as graphql-core's Undefined and hands
that to the resolver inside the value. Ours refuses it as an invalid argument value,
which schema/errors.py answers as BAD_USER_INPUT; a sent variable, or an unsent one
with a default, takes its value as before."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
    value_from_ast_untyped,
)
from strawberry.scalars import JSON
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition


def variable_names(node: ValueNode) -> Iterator[str]:
    """The variables a literal refers to, at any depth."""
    pending: list[ValueNode] = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, VariableNode):
            yield item.name.value
        elif isinstance(item, ListValueNode):
            pending.extend(item.values)
        elif isinstance(item, ObjectValueNode):
            pending.extend(field.value for field in item.fields)


def parse_json_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
    """The literal as a JSON value, its variables replaced by their coerced values.

    `variables` is None while the document is validated, before any value is known;
    during execution it holds every variable that has a value (sent or default)."""
    if variables is not None:
        for name in variable_names(node):
            if name not in variables:
                # graphql-core's own wording for a variable without a runtime value.
                raise GraphQLError(
                    f"Expected variable '${name}' provided to type 'JSON' "
                    "to provide a runtime value."
                )
    return value_from_ast_untyped(node, variables)


JSON_DEFINITION: ScalarDefinition = dataclasses.replace(
    DEFAULT_SCALAR_REGISTRY[JSON], parse_literal=parse_json_literal
)

SCALAR_OVERRIDES: Mapping[object, ScalarDefinition] = {JSON: JSON_DEFINITION}
