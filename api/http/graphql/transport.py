"""GraphQL over HTTP below the executor: media type negotiation, the refusals that are
not GraphQL requests (TransportError) and the JSON a request body may hold."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.http import GraphQLRequestData

from api.errors import AppError

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
ALLOWED_METHODS = ("GET", "POST")
DEFAULT_MAX_BODY_BYTES = 100 * 1024

# Far more than any input type of the schema nests; deeper JSON only costs recursion.
MAX_JSON_DEPTH = 64
# Beyond this an integer does not fit an IEEE-754 double, which is all a JavaScript
# client could have meant; it also keeps int() off its quadratic path.
MAX_INTEGER_DIGITS = 309

# json decodes an unpaired \uD800-\uDFFF escape into a lone surrogate, which is not text:
# it cannot be encoded to UTF-8 for PostgreSQL, a log line or a response.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class TransportError(HTTPException):
    """The request is not a GraphQL-over-HTTP request this server accepts."""

    def __init__(
        self,
        status_code: int,
        reason: str,
        headers: Mapping[str, str] | None = None,
        *,
        cause: AppError | None = None,
    ) -> None:
        super().__init__(status_code, reason)
        self.headers = dict(headers or {})
        # A domain error behind the refusal (RATE_LIMITED) gives the code instead.
        self.cause = cause


def method_not_allowed(reason: str, allow: Iterable[str]) -> TransportError:
    return TransportError(405, reason, {"allow": ", ".join(allow)})


def negotiate_media_type(accept: str) -> str:
    """application/graphql-response+json when the client prefers it, else application/json.

    A missing Accept, */* or a list naming neither type is application/json: the spec's
    legacy default, which every client understands."""
    explicit: dict[str, float] = {}
    wildcard = 0.0
    for media_range in accept.split(","):
        media_type, _, parameters = media_range.partition(";")
        media_type = media_type.strip().lower()
        quality = _quality(parameters)
        if media_type in (GRAPHQL_RESPONSE_JSON, JSON):
            explicit[media_type] = max(explicit.get(media_type, 0.0), quality)
        elif media_type in ("*/*", "application/*"):
            wildcard = max(wildcard, quality)
    preferred = explicit.get(GRAPHQL_RESPONSE_JSON, 0.0)
    if preferred > 0 and preferred >= explicit.get(JSON, wildcard):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def accepted_media_type(request: Request | WebSocket) -> str:
    return negotiate_media_type(", ".join(request.headers.getlist("accept")))


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0


class _NumberOutOfRange(ValueError):
    pass


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NumberOutOfRange(text)
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _NumberOutOfRange(text)
    return int(text)


def _check_json_value(value: object) -> None:
    """Refuse what json accepts but no GraphQL input can hold: deep nesting, lone surrogates."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _LONE_SURROGATE.search(item):
                raise TransportError(400, "The request body contains an invalid \\u escape.")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_JSON_DEPTH:
            raise TransportError(400, "The request body nests too deeply.")
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)


def _optional(params: Mapping[str, object], name: str, kind: type, described: str) -> Any:
    value = params.get(name)
    if value is not None and not isinstance(value, kind):
        raise TransportError(400, f"The request's `{name}` must be {described} or null.")
    return value


def request_data(params: Mapping[str, object]) -> GraphQLRequestData:
    return GraphQLRequestData(
        query=_optional(params, "query", str, "a string"),
        variables=_optional(params, "variables", dict, "an object"),
        operation_name=_optional(params, "operationName", str, "a string"),
        extensions=_optional(params, "extensions", dict, "an object"),
    )


def decode_json_body(data: str | bytes) -> object:
    """The request body as JSON, or a 400 for anything no GraphQL request can be."""
    try:
        # Strictly UTF-8, as the spec requires: json.loads would guess UTF-16 or 32.
        text = data.decode() if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise TransportError(400, "The request body is not valid UTF-8.") from error
    try:
        value = json.loads(
            text,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except RecursionError as error:
        raise TransportError(400, "The request body nests too deeply.") from error
    except _NumberOutOfRange as error:
        raise TransportError(400, "The request body has a number out of range.") from error
    except ValueError as error:
        raise TransportError(400, "The request body is not valid JSON.") from error
    _check_json_value(value)
    return value


class GraphQLSubResponse(Response):
    """The response resolvers add cookies to, carrying the media type the client accepts."""

    def __init__(self, media_type: str) -> None:
        super().__init__()
        self.negotiated_media_type = media_type
        # Strawberry's convention: no status unless a resolver sets one.
        self.status_code = None  # type: ignore[assignment]
        del self.headers["content-length"]
