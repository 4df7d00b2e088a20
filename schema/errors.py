"""The one place where failures become GraphQL errors with the contract's codes.

Domain errors (api.errors.AppError) keep their message and code. Parse and
validation failures are GRAPHQL_VALIDATION_FAILED, bad variable values
BAD_USER_INPUT. Anything else is INTERNAL_SERVER_ERROR with a generic message:
the exception is logged with the request id, never sent."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.errors import AppError

log = logging.getLogger("glassshop.errors")

INTERNAL_MESSAGE = "Internal server error."
_VARIABLE_ERROR = re.compile(r"^Variable '\$(\w+)'")


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def as_request_error(error: GraphQLError) -> GraphQLError:
    """An error found before execution (the document or the variables are wrong)."""
    if error.extensions and "code" in error.extensions:
        return error
    variable = _VARIABLE_ERROR.match(error.message)
    if variable:
        fields = {variable.group(1): [error.message]}
        return _with(error, error.message, {"code": "BAD_USER_INPUT", "fields": fields})
    return _with(error, error.message, {"code": "GRAPHQL_VALIDATION_FAILED"})


def format_error(error: GraphQLError, request_id: str | None = None) -> GraphQLError:
    """Map one error; idempotent, so applying it twice changes nothing."""
    original = error.original_error
    if isinstance(original, AppError):
        return _with(error, original.message, original.extensions())
    if isinstance(original, GraphQLError) and original is not error:
        return format_error(original, request_id)
    if original is None:
        return as_request_error(error)
    log.error(
        "unexpected error in %s (request %s)",
        ".".join(str(p) for p in error.path or []) or "operation",
        request_id,
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})


class ErrorCodes(SchemaExtension):
    def _request_id(self) -> str | None:
        context = self.execution_context.context
        meta = getattr(getattr(context, "uow", None), "meta", None)
        return getattr(meta, "request_id", None)

    def _map_pre_execution(self) -> None:
        errors = self.execution_context.pre_execution_errors
        if errors:
            self.execution_context.pre_execution_errors = [as_request_error(e) for e in errors]

    def on_parse(self) -> Iterator[None]:
        yield
        self._map_pre_execution()

    def on_validate(self) -> Iterator[None]:
        yield
        self._map_pre_execution()

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            request_id = self._request_id()
            result.errors = [format_error(e, request_id) for e in result.errors]
