"""Limits on what one GraphQL document may ask for, checked before execution.

Depth and aliases use Strawberry's own rules and tokens its extension (see
schema/root.py); the rules here add the number of directives, the document's size, and
a cost that multiplies by the page sizes (`first`/`last`) a query asks for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from schema.pagination import DEFAULT_PAGE_SIZE


def _max_directives(maximum: int) -> type[ValidationRule]:
    class MaxDirectives(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0

        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            self.count += 1
            if self.count == maximum + 1:
                self.report_error(
                    GraphQLError(f"The document uses more than {maximum} directives.", node)
                )

    return MaxDirectives


def _max_document_size(maximum: int) -> type[ValidationRule]:
    class MaxDocumentSize(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            loc = context.document.loc
            if loc is not None and len(loc.source.body) > maximum:
                self.report_error(
                    GraphQLError(f"The document is longer than {maximum} characters.")
                )

    return MaxDocumentSize


def document_rules(
    *, max_depth: int, max_aliases: int, max_directives: int, max_document_chars: int
) -> list[type[ASTValidationRule]]:
    """The validation rules of the document limits, built once per schema.

    Rule classes hold no state between validations (graphql-core makes an instance per
    validation), so one set serves every request; Strawberry's depth and alias limiter
    extensions would build theirs again for each request, even one whose document is
    already known valid (schema/validation_cache.py) and is not validated at all."""
    return [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
        _max_directives(max_directives),
        _max_document_size(max_document_chars),
    ]


class QueryCost:
    """Each field costs 1; a paginated field's selection costs as many times as the
    page size it asks for (its `first` or `last`, else the default page size).

    Arguments are read as the executor reads them, from the coerced variables: a
    variable's default, an integral float sent for an Int and an argument's own default
    all count as the page size execution will fetch."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def of_operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        return self._selection(operation.selection_set, root, set()) if root else 0

    def _selection(
        self, selection_set: SelectionSetNode | None, parent: Any, seen: set[str]
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self._selection(selection.selection_set, target, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:  # validation reports both
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self._selection(fragment.selection_set, target, seen | {name})
        return total

    def _field(self, node: FieldNode, parent: Any, seen: set[str]) -> int:
        name = node.name.value
        fields = getattr(parent, "fields", None)
        if name.startswith("__") or not fields or name not in fields:
            return 1
        definition: GraphQLField = fields[name]
        try:
            arguments = get_argument_values(definition, node, self.variables)
        except GraphQLError:
            # Execution refuses the field before resolving it: nothing below it runs.
            return 1
        child: GraphQLNamedType = get_named_type(definition.type)
        inner = self._selection(node.selection_set, child, seen)
        multiplier = 1
        if "first" in definition.args or "last" in definition.args:
            multiplier = page_size(arguments)
        return 1 + multiplier * inner


def page_size(arguments: dict[str, Any]) -> int:
    """The larger of `first` and `last`; a negative size is refused by the resolver."""
    sizes = [arguments.get("first"), arguments.get("last")]
    return max((s for s in sizes if isinstance(s, int) and s >= 0), default=DEFAULT_PAGE_SIZE)


def operation_cost(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDefinitionNode],
    operation: OperationDefinitionNode,
    inputs: dict[str, Any],
) -> int:
    """The operation's cost with its variables coerced as execution will coerce them;
    0 when they cannot be, since execution then refuses the operation before any field."""
    variables = get_variable_values(schema, operation.variable_definitions or (), inputs)
    if isinstance(variables, list):
        return 0
    return QueryCost(schema, fragments, variables).of_operation(operation)


def cost_limit(maximum: int) -> type[SchemaExtension]:
    class CostLimit(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None:
                fragments = {
                    d.name.value: d
                    for d in document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
                operations = [
                    d
                    for d in document.definitions
                    if isinstance(d, OperationDefinitionNode)
                    and (
                        context.operation_name is None
                        or d.name is None
                        or d.name.value == context.operation_name
                    )
                ]
                schema, inputs = context.schema._schema, context.variables or {}
                cost = max(
                    (operation_cost(schema, fragments, op, inputs) for op in operations),
                    default=0,
                )
                if cost > maximum:
                    raise GraphQLError(
                        f"The query is too expensive: cost {cost}, at most {maximum}. "
                        "Ask for smaller pages (first/last) or fewer nested lists.",
                        extensions={
                            "code": "GRAPHQL_VALIDATION_FAILED",
                            "cost": cost,
                            "maxCost": maximum,
                        },
                    )
            yield

    return CostLimit
