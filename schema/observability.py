"""Per-operation log context and metrics (see api/infra/logging.py and api/infra/metrics.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import FieldNode, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from api.infra.logging import operation_var, user_id_var


class Observe(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        identity = getattr(context, "identity", None)
        if getattr(identity, "user_id", None) is not None:
            user_id_var.set(str(identity.user_id))  # type: ignore[union-attr]
        operation_var.set(self.execution_context.operation_name)
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        resources = getattr(context, "resources", None)
        if resources is None:
            return
        result = self.execution_context.result
        codes = [
            str((error.extensions or {}).get("code", "UNKNOWN"))
            for error in (getattr(result, "errors", None) or [])
        ]
        resources.metrics.observe(self._label(), elapsed, codes)

    def _label(self) -> str:
        """The operation's type and root fields: bounded by the schema, unlike names."""
        document = self.execution_context.graphql_document
        if document is None:
            return "invalid"
        wanted = self.execution_context.operation_name
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if wanted is not None and (definition.name is None or definition.name.value != wanted):
                continue
            fields = sorted(
                {
                    s.name.value
                    for s in definition.selection_set.selections
                    if isinstance(s, FieldNode) and not s.name.value.startswith("__")
                }
            )
            return f"{definition.operation.value}:{','.join(fields[:5]) or '__typename'}"
        return "invalid"
