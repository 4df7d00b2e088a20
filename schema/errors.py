"""The one place where failures become GraphQL errors with the contract's codes.

Domain errors (api.errors.AppError) keep their message and code. Parse and
validation failures are GRAPHQL_VALIDATION_FAILED; variable values that do not fit
their type are BAD_USER_INPUT, with extensions.fields naming the variable, and so are
arguments whose variables do not fit them once their field executes (extensions.fields
naming the argument). No message quotes a value, sent or written in the document.
PostgreSQL or Redis unreachable, gone mid-operation or too slow to answer is
SERVICE_UNAVAILABLE (try again shortly). Anything else is INTERNAL_SERVER_ERROR with a
generic message: the exception is logged with the request id, never sent."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import aclosing

from graphql import GraphQLError, VariableDefinitionNode
from sqlalchemy.exc import DBAPIError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionResult

from api.errors import AppError, ServiceUnavailable, is_unavailable

log = logging.getLogger("glassshop.errors")

INTERNAL_MESSAGE = "Internal server error."
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


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


def _has_code(error: GraphQLError) -> bool:
    return bool(error.extensions and "code" in error.extensions)


def as_validation_error(error: GraphQLError) -> GraphQLError:
    """The document does not parse or does not validate against the schema."""
    if _has_code(error):
        return error
    message = redact_literal_value(error.message)
    return _with(error, message, {"code": "GRAPHQL_VALIDATION_FAILED"})


def _bad_variables(error: GraphQLError) -> dict[str, list[str]] | None:
    """{name: [message]} when a variable's value could not be coerced to its type."""
    names = [
        node.variable.name.value
        for node in error.nodes or []
        if isinstance(node, VariableDefinitionNode)
    ]
    return {name: [error.message] for name in names} if names else None


# --- Values never echoed back ---
# graphql-core quotes the value in coercion and validation errors ("... found: {'password':
# 'hunter2'}", "Int cannot represent non-integer value: 'abc'"), whether it came in a
# variable or was written into the document: a password or token would land in client
# logs and error trackers. Only the variable or argument, the path inside it and a reason
# from this list (the value cut off) are sent; for a variable or argument, any other
# reason is replaced whole.
_INVALID_VARIABLE = re.compile(
    r"Variable '\$(?P<name>[^']+)' has invalid (?P<default>default )?value"
    r"(?: at (?P<path>[\w.\[\]]+))?: (?P<reason>.*)",
    re.DOTALL,
)
_OTHER_INVALID_VARIABLE = re.compile(r"Variable '\$([^']+)' \w+ invalid")
# An argument's value refused as its field executes (graphql-core's coerce_argument):
# variables inside a literal that do not fit it, which validation could not know.
_INVALID_ARGUMENT = re.compile(
    r"Argument '(?P<name>\w+)' has invalid value(?: at (?P<path>[\w.\[\]]+))?: (?P<reason>.*)",
    re.DOTALL,
)
_VALUE_FREE_REASONS = (
    re.compile(r"Expected a value of non-null type '[^']+' to be provided\."),
    re.compile(r"Expected value of non-null type '[^']+' not to be None\."),
    re.compile(r"Within OneOf Input Object type '[^']+', exactly one field must be \w+\."),
    # A variable inside a literal without a value (also schema/scalars.py's JSON).
    re.compile(
        r"Expected variable '\$\w+' provided to (?:non-null type|type|field '\w+' for OneOf "
        r"Input Object type) '[^']+' (?:to provide a runtime value|not to be None)\."
    ),
)
_REASON_BEFORE_VALUE = (
    # "..., found: <value>." and "..., but encountered error '<message>'; found: <value>."
    re.compile(r"(Expected value of type '[^']+' to be an object), found: "),
    re.compile(r"(Expected value of type '[^']+' to include required field '\w+'), found: "),
    re.compile(
        r"(Expected value of type '[^']+' not to include unknown field '\w+'"
        r"(?:\. Did you mean [^?]*\?)?)(?:, found| Found): "
    ),
    re.compile(r"(Expected value of type '[^']+'), (?:but encountered error|found: )"),
    # The built-in scalars: "Int cannot represent non-integer value: <value>".
    re.compile(r"((?:Int|Float|String|Boolean|ID) cannot represent [\w -]+): "),
    # Strawberry's date and time scalars: "Value cannot represent a DateTime: <value>. ..."
    re.compile(r"(Value cannot represent an? \w+): "),
)
# Enum errors end in a suggestion that names the enum's values, not the one submitted
# (and is dropped in production with every other "Did you mean").
_SUGGESTION_AT_END = r"(?P<hint> Did you mean [^?]*\?)?"
_WRONG_ENUM_KIND = re.compile(
    r"(?P<kept>Enum '\w+' cannot represent non-(?:string|enum) value): .*?" + _SUGGESTION_AT_END,
    re.DOTALL,
)
_UNKNOWN_ENUM_VALUE = re.compile(
    r"Value .* does not exist in '(?P<enum>\w+)' enum\." + _SUGGESTION_AT_END, re.DOTALL
)
# The parser quotes the token it stopped at: "Expected Name, found String 'hunter2'."
_QUOTED_VALUE_TOKEN = re.compile(
    r"(?P<kept>Syntax Error: .*(?:found|Unexpected) (?:String|BlockString|Int|Float)) '.*'\.",
    re.DOTALL,
)


def _cut_value(reason: str) -> str | None:
    """The reason without the value it quotes; None for a wording not known here."""
    if any(pattern.fullmatch(reason) for pattern in _VALUE_FREE_REASONS):
        return reason
    for pattern in _REASON_BEFORE_VALUE:
        match = pattern.match(reason)
        if match:
            kept = match.group(1)
            return kept if kept.endswith("?") else f"{kept}."
    wrong_kind = _WRONG_ENUM_KIND.fullmatch(reason)
    if wrong_kind:
        return f"{wrong_kind.group('kept')}.{wrong_kind.group('hint') or ''}"
    unknown = _UNKNOWN_ENUM_VALUE.fullmatch(reason)
    if unknown:
        enum, hint = unknown.group("enum"), unknown.group("hint") or ""
        return f"The value is not one of the '{enum}' enum's values.{hint}"
    return None


def _value_free_reason(reason: str, holder: str) -> str:
    cut = _cut_value(reason)
    return cut if cut is not None else f"The value does not fit the {holder}'s type."


def redact_variable_value(message: str) -> str:
    """A variable coercion message without the submitted value: "Variable '$input' has
    an invalid value at 'input.age': Int cannot represent non-integer value." """
    match = _INVALID_VARIABLE.fullmatch(message)
    if match is None:
        # Another wording (graphql-core 3.2: "got invalid value <value>; ..."): no reason.
        other = _OTHER_INVALID_VARIABLE.match(message)
        return f"Variable '${other.group(1)}' has an invalid value." if other else message
    name = match.group("name")
    where = f" at '{name}{match.group('path')}'" if match.group("path") else ""
    kind = "default value" if match.group("default") else "value"
    reason = _value_free_reason(match.group("reason"), "variable")
    return f"Variable '${name}' has an invalid {kind}{where}: {reason}"


def redact_literal_value(message: str) -> str:
    """A parse or validation message without the literal it quotes: "Expected value of
    type 'LoginInput' not to include unknown field 'bogus'." A message that quotes no
    value (it names the document's fields, types and variables) is kept whole."""
    token = _QUOTED_VALUE_TOKEN.fullmatch(message)
    if token:
        return f"{token.group('kept')}."
    cut = _cut_value(message)
    return message if cut is None else cut


def _bad_argument(error: GraphQLError) -> tuple[str, str] | None:
    """(argument, message without the value) when graphql-core refused an argument's
    value as the field executed; a resolver's own exceptions are never taken for one."""
    if not isinstance(error.original_error, GraphQLError):
        return None
    match = _INVALID_ARGUMENT.fullmatch(error.message)
    if match is None:
        return None
    name = match.group("name")
    where = f" at '{name}{match.group('path')}'" if match.group("path") else ""
    reason = _value_free_reason(match.group("reason"), "argument")
    return name, f"Argument '{name}' has an invalid value{where}: {reason}"


def _root_cause(error: GraphQLError) -> BaseException | None:
    """The exception behind an error, through any GraphQLErrors wrapping it."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError) and cause.original_error is not None:
        cause = cause.original_error
    return None if isinstance(cause, GraphQLError) else cause


def _is_data_exception(error: DBAPIError) -> bool:
    """SQLSTATE class 22: PostgreSQL found a value unacceptable (NUL, out of range...)."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("22")


def format_error(error: GraphQLError, request_id: str | None = None) -> GraphQLError:
    """Map one error; idempotent, so applying it twice changes nothing."""
    if _has_code(error):
        return error
    cause = _root_cause(error)
    if isinstance(cause, AppError):
        return _with(error, cause.message, cause.extensions())
    if isinstance(cause, DBAPIError) and _is_data_exception(cause):
        # PostgreSQL refused a value our validation let through (e.g. a NUL character):
        # the client's input is at fault, and the transaction was rolled back.
        log.warning("input rejected by the database (request %s): %s", request_id, cause.orig)
        return _with(error, "A value is not acceptable.", {"code": "BAD_USER_INPUT", "fields": {}})
    if cause is not None and is_unavailable(cause):
        log.warning("a backing service is unavailable (request %s): %r", request_id, cause)
        unavailable = ServiceUnavailable()
        return _with(error, unavailable.message, unavailable.extensions())
    fields = _bad_variables(error)
    if fields is not None:
        message = redact_variable_value(error.message)
        fields = {name: [message] for name in fields}
        return _with(error, message, {"code": "BAD_USER_INPUT", "fields": fields})
    argument = _bad_argument(error)
    if argument is not None:
        name, message = argument
        return _with(error, message, {"code": "BAD_USER_INPUT", "fields": {name: [message]}})
    if cause is None and error.path is None:
        # Raised by graphql-core about the request itself, before any resolver ran.
        return as_validation_error(error)
    log.error(
        "unexpected error in %s (request %s)",
        ".".join(str(p) for p in error.path or []) or "operation",
        request_id,
        exc_info=(type(cause), cause, cause.__traceback__) if cause else None,
    )
    return _with(error, INTERNAL_MESSAGE, {"code": "INTERNAL_SERVER_ERROR"})


async def coded_stream(results: StreamResult, request_id: str | None) -> StreamResult:
    """A subscription's events with their errors mapped like every other response's:
    ErrorCodes wraps the operation once, not each event a subscription yields."""
    async with aclosing(results):
        async for result in results:
            if isinstance(result, ExecutionResult) and result.errors:
                result.errors = [
                    error
                    if (error.extensions or {}).get("code")
                    else format_error(error, request_id)
                    for error in result.errors
                ]
            yield result


class ErrorCodes(SchemaExtension):
    def __init__(self, *, hide_suggestions: bool = False) -> None:
        self.hide_suggestions = hide_suggestions

    def _validation_error(self, error: GraphQLError) -> GraphQLError:
        mapped = as_validation_error(error)
        # "Did you mean ...?" lists the schema's names: not for production clients.
        return self._without_suggestions(mapped) if self.hide_suggestions else mapped

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        meta = getattr(getattr(context, "uow", None), "meta", None)
        return getattr(meta, "request_id", None)

    def _map_pre_execution(self) -> None:
        errors = self.execution_context.pre_execution_errors
        if errors:
            # In place: strawberry already holds this list for its response.
            errors[:] = [self._validation_error(e) for e in errors]

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
            if self.hide_suggestions:
                result.errors = [self._without_suggestions(e) for e in result.errors]
            self._retry_after_header(result.errors)

    def _without_suggestions(self, error: GraphQLError) -> GraphQLError:
        extensions = dict(error.extensions or {})
        fields = extensions.get("fields")
        if isinstance(fields, dict):
            extensions["fields"] = {
                name: [_SUGGESTION.sub("", str(m)) for m in messages]
                for name, messages in fields.items()
            }
        return _with(error, _SUGGESTION.sub("", error.message), extensions)

    def _retry_after_header(self, errors: list[GraphQLError]) -> None:
        waits = [
            int(str(e.extensions["retryAfter"]))
            for e in errors
            if e.extensions and e.extensions.get("code") == "RATE_LIMITED"
        ]
        response = getattr(self.execution_context.context, "response", None)
        if waits and response is not None:
            response.headers["Retry-After"] = str(max(waits))
