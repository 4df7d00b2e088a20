"""Property-based fuzzing of /graphql through the real ASGI app, PostgreSQL and Redis.

Requests are drawn from: documents hypothesis-graphql builds from schema.graphql (valid
ones, and ones with one schema violation), fixed operations with random variables,
arbitrary JSON bodies and arbitrary text as a query, sent anonymously or as a staff
member, over POST or GET. Whatever is sent, the answer is never a 5xx, every error
has extensions.code, and nothing internal (a traceback, SQLAlchemy, asyncpg, a column
holding a password hash) shows in a response."""

from __future__ import annotations

import base64
import json
import string
from pathlib import Path
from typing import Any

import graphql
import hypothesis_graphql as hg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.graphql import GraphQLClient
from tests.support.staff import register_staff

SDL = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
LEAKS = ("Traceback", 'File "', "sqlalchemy", "asyncpg", "password_hash")
# Mutations that would end or lock out the staff session the fuzzer signs in with.
SESSION_ENDING = {"logout", "revokeSession", "changePassword", "deactivateUser"}
_MUTATION = graphql.build_schema(SDL).mutation_type
assert _MUTATION is not None
MUTATION_FIELDS = list(_MUTATION.fields)

# JSON values (the shapes a request body or a variable can take), small.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

# Strings a resolver may take a closer look at: ids, cursors, emails, times, tokens.
plausible_strings = st.one_of(
    st.uuids().map(str),
    st.binary(max_size=48).map(lambda b: base64.urlsafe_b64encode(b).decode()),
    st.emails().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.text(alphabet=string.printable, max_size=40),
    st.text(max_size=40),
)


def _string_node(value: str) -> graphql.ValueNode:
    return graphql.StringValueNode(value=value)


CUSTOM_SCALARS: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
    "DateTime": plausible_strings.map(_string_node),
    "JSON": st.one_of(
        plausible_strings.map(_string_node),
        st.integers(min_value=-(10**6), max_value=10**6).map(
            lambda n: graphql.IntValueNode(value=str(n))
        ),
        st.booleans().map(lambda b: graphql.BooleanValueNode(value=b)),
    ),
}


def generated(mode: hg.Mode, mutation_fields: list[str] | None = None) -> st.SearchStrategy[str]:
    queries = hg.queries(SDL, custom_scalars=CUSTOM_SCALARS, mode=mode)
    mutations = hg.mutations(SDL, fields=mutation_fields, custom_scalars=CUSTOM_SCALARS, mode=mode)
    return queries | mutations


# Operations whose variables the fuzzer chooses.
WITH_VARIABLES = {
    "mutation R($input: RegisterInput!) { register(input: $input) { accessToken } }": "input",
    "mutation L($input: LoginInput!) { login(input: $input) { accessToken } }": "input",
    "query N($id: ID!) { node(id: $id) { id } }": "id",
    "query U($id: ID!) { user(id: $id) { id email profile { metadata } } }": "id",
    "query Us($first: Int, $after: String, $filter: UserFilter, $orderBy: UserOrder) "
    "{ users(first: $first, after: $after, filter: $filter, orderBy: $orderBy) "
    "{ totalCount edges { cursor } } }": "filter",
    "query A($last: Int, $before: String, $filter: AuditLogFilter) "
    "{ auditLogs(last: $last, before: $before, filter: $filter) { totalCount } }": "filter",
    "mutation P($input: UpdateProfileInput!) { updateProfile(input: $input) "
    "{ id profile { preferences metadata } } }": "input",
    "mutation Rp($token: String!, $p: String!) { resetPassword(token: $token, newPassword: $p) }": (
        "token"
    ),
    "mutation V($token: String!) { verifyEmail(token: $token) { id } }": "token",
    "mutation Q($email: String!) { requestPasswordReset(email: $email) }": "email",
    "mutation F($token: String) { refresh(refreshToken: $token) { accessToken } }": "token",
}


INPUT_FIELDS = [
    "email",
    "password",
    "username",
    "firstName",
    "phone",
    "metadata",
    "preferences",
    "search",
    "actions",
    "userId",
    "createdAfter",
    "joinedBefore",
    "isStaff",
]


@st.composite
def variables_for(draw: st.DrawFn, document: str) -> dict[str, Any]:
    """Random values for the document's variables: its main one an input-like object
    (or anything), the others present or not, plausible or not."""
    operation = graphql.parse(document).definitions[0]
    assert isinstance(operation, graphql.OperationDefinitionNode)
    value = st.one_of(plausible_strings, json_values)
    main = WITH_VARIABLES[document]
    variables: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name == main:
            variables[name] = draw(
                st.dictionaries(st.sampled_from(INPUT_FIELDS), value, max_size=5) | value
            )
        elif draw(st.booleans()):
            variables[name] = draw(value)
    return variables


@st.composite
def graphql_requests(draw: st.DrawFn) -> dict[str, Any]:
    signed_in = draw(st.booleans())
    kind = draw(st.sampled_from(["generated", "negative", "variables", "garbage"]))
    body: dict[str, Any]
    if kind == "generated":
        fields = [f for f in MUTATION_FIELDS if f not in SESSION_ENDING] if signed_in else None
        body = {"query": draw(generated(hg.Mode.POSITIVE, fields))}
    elif kind == "negative":
        fields = [f for f in MUTATION_FIELDS if f not in SESSION_ENDING] if signed_in else None
        body = {"query": draw(generated(hg.Mode.NEGATIVE, fields))}
    elif kind == "variables":
        document = draw(st.sampled_from(sorted(WITH_VARIABLES)))
        body = {"query": document, "variables": draw(variables_for(document))}
    else:
        body = {"query": draw(st.text(max_size=200))}
        if draw(st.booleans()):
            body["variables"] = draw(json_values)
    if draw(st.integers(0, 9)) == 0:
        body["operationName"] = draw(st.one_of(st.text(max_size=10), json_values))
    if draw(st.integers(0, 9)) == 0:
        body["extensions"] = draw(json_values)
    method = "GET" if draw(st.integers(0, 4)) == 0 else "POST"
    return {"signed_in": signed_in, "method": method, "body": body}


@st.composite
def raw_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Bodies that are not GraphQL requests at all: any JSON, any bytes."""
    content = draw(
        st.one_of(
            json_values.map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=200),
        )
    )
    return {"signed_in": False, "method": "RAW", "body": content}


REQUESTS = st.one_of(graphql_requests(), graphql_requests(), graphql_requests(), raw_bodies())


async def send(client: GraphQLClient, request: dict[str, Any], token: str) -> Any:
    headers = {"authorization": f"Bearer {token}"} if request["signed_in"] else {}
    body = request["body"]
    if request["method"] == "RAW":
        return await client.http.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
    if request["method"] == "GET":
        params = {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in body.items()
        }
        preflighted = {**headers, "apollo-require-preflight": "true"}
        return await client.http.get("/graphql", params=params, headers=preflighted)
    return await client.http.post("/graphql", json=body, headers=headers)


def texts(value: Any) -> str:
    """Every string in a JSON value (keys too), one per line."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(texts(k) + "\n" + texts(v) for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(texts(item) for item in value)
    return ""


@pytest.fixture
async def staff_token(client: GraphQLClient, engine: AsyncEngine, redis: Redis) -> str:
    return (await register_staff(client, engine, redis, "fuzz.staff@example.com")).access_token


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(request=REQUESTS)
async def test_no_request_gets_a_5xx_an_uncoded_error_or_a_leak(
    client: GraphQLClient, staff_token: str, request: dict[str, Any]
) -> None:
    reply = await send(client, request, staff_token)
    body = request["body"]
    sent = texts(body) if request["method"] != "RAW" else body.decode(errors="replace")

    assert reply.status_code < 500, (reply.status_code, reply.text)
    media_type = reply.headers["content-type"].split(";")[0]
    assert media_type in ("application/json", "application/graphql-response+json"), reply.text
    payload = reply.json()
    for error in payload.get("errors") or []:
        assert isinstance(error.get("extensions", {}).get("code"), str), error
    # The decoded strings: in the JSON text a traceback's `File "` reads `File \"`.
    answered = texts(payload).lower()
    for leak in LEAKS:
        if leak.lower() not in sent.lower():
            assert leak.lower() not in answered, (leak, reply.text)
