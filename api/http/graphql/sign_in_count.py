"""What a request may ask of the sign-in fields, batched or aliased."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionNode,
    get_operation_ast,
    parse,
)

# The root fields that sign in: a request may call at most one of them, so that no
# request (a batch, or aliases) turns into many password guesses or token rotations.
SIGN_IN_FIELDS = frozenset({"login", "register", "refresh"})


def count_sign_in_fields(query: str | None, operation_name: str | None, max_tokens: int) -> int:
    """How many root fields of SIGN_IN_FIELDS the operation would run: aliases and
    fragments (named or inline) at the root count; an unparseable document counts 0,
    as it runs nothing."""
    # A field is only ever selected by its name: a document without one of the names
    # cannot select it, and need not be parsed here.
    if not query or not any(name in query for name in SIGN_IN_FIELDS):
        return 0
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return 0
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation.value != "mutation":
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    count = 0
    spread: set[str] = set()
    pending: list[SelectionNode] = list(operation.selection_set.selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            count += selection.name.value in SIGN_IN_FIELDS
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(selection.selection_set.selections)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
            # A fragment spread twice runs its fields once (they merge).
            spread.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
    return count
