"""What one GraphQL document may ask for: depth, aliases, directives, tokens, size and
cost, each checked before anything runs; the request timeout; introspection and
"Did you mean" hints, off in production.

Each limit is tested at its boundary with a `register` mutation, on an app whose limit
is lowered to a small number: a document at the limit registers a user, one just over
it is refused with GRAPHQL_VALIDATION_FAILED and no `data`, and no user exists, so the
refusal came before execution."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from graphql import Source, TokenKind
from graphql.language.lexer import Lexer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.hardening.conftest import PRODUCTION, StartApp
from tests.support.accounts import audit_rows, device, scalar
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, GraphQLClient, Response
from tests.support.staff import register_staff

SHIPPED_MAX_DEPTH = 10
SHIPPED_MAX_COST = 5000
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def register_document(email: str, selection: str, padding: str = "") -> str:
    return (
        f'mutation {{ register(input: {{email: "{email}", password: "{DEFAULT_PASSWORD}"}}) '
        f"{{ {selection} }} }}{padding}"
    )


def token_count(document: str) -> int:
    """Tokens as graphql-core's parser counts them (comments and commas are not tokens)."""
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


async def user_exists(engine: AsyncEngine, email: str) -> bool:
    found = await scalar(engine, "SELECT count(*) FROM users WHERE email = :email", email=email)
    return bool(found)


def assert_registered(result: Response) -> None:
    assert result.ok()["register"], result.body


def assert_refused_before_execution(result: Response, message_part: str) -> dict[str, Any]:
    """A request error: no data entry, only GRAPHQL_VALIDATION_FAILED errors."""
    assert "data" not in result.body, result.body
    assert result.errors, result.body
    assert set(result.error_codes) == {VALIDATION_FAILED}, result.errors
    assert any(message_part in e["message"] for e in result.errors), result.errors
    return result.errors[0]


async def at_and_over_the_limit(
    app: Starlette, engine: AsyncEngine, at_limit: str, over_limit: str
) -> tuple[Response, Response]:
    """Send both documents (which register at.limit@ and over.limit@) from one client."""
    async with device(app) as client:
        accepted = await client.execute(at_limit)
        refused = await client.execute(over_limit)
    assert await user_exists(engine, "at.limit@example.com")
    assert not await user_exists(engine, "over.limit@example.com")
    return accepted, refused


def nested(depth: int, leaf: str = "id") -> str:
    """`me { profile { user { profile ... } } }`: `depth` fields with selection sets."""
    names = ["me", *(["profile", "user"] * depth)][:depth]
    selection = leaf
    for name in reversed(names):
        selection = f"{name} {{ {selection} }}"
    return f"{{ {selection} }}"


# Depth


async def test_a_document_at_the_depth_limit_runs_and_one_over_is_refused_before_execution(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(max_query_depth=3)
    # register (1) > user (2) > profile (3); one more level is 4.
    accepted, refused = await at_and_over_the_limit(
        app,
        engine,
        register_document("at.limit@example.com", "user { profile { id } }"),
        register_document("over.limit@example.com", "user { profile { user { id } } }"),
    )

    assert_registered(accepted)
    assert_refused_before_execution(refused, "exceeds maximum operation depth of 3")


async def test_the_shipped_depth_limit_accepts_10_levels_and_refuses_11(
    client: GraphQLClient,
) -> None:
    accepted = await client.execute(nested(SHIPPED_MAX_DEPTH))
    refused = await client.execute(nested(SHIPPED_MAX_DEPTH + 1))

    assert accepted.ok() == {"me": None}
    assert_refused_before_execution(refused, "exceeds maximum operation depth of 10")


# Aliases


async def test_a_document_at_the_alias_limit_runs_and_one_over_is_refused_before_execution(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(max_aliases=2)
    accepted, refused = await at_and_over_the_limit(
        app,
        engine,
        register_document("at.limit@example.com", "a: accessToken b: accessToken"),
        register_document("over.limit@example.com", "a: accessToken b: accessToken c: user { id }"),
    )

    assert_registered(accepted)
    assert_refused_before_execution(refused, "Allowed: 2")


# Directives


async def test_a_document_at_the_directive_limit_runs_and_one_over_is_refused_before_execution(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(max_directives=2)
    two = "accessToken @include(if: true) refreshToken @skip(if: false)"
    accepted, refused = await at_and_over_the_limit(
        app,
        engine,
        register_document("at.limit@example.com", two),
        register_document("over.limit@example.com", f"{two} user @include(if: true) {{ id }}"),
    )

    assert_registered(accepted)
    assert_refused_before_execution(refused, "more than 2 directives")


# Tokens


async def test_a_document_at_the_token_limit_runs_and_one_over_is_refused_before_execution(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    limit = 40

    def with_tokens(email: str, tokens: int) -> str:
        base = register_document(email, "accessToken")
        document = register_document(
            email, "accessToken" + " __typename" * (tokens - token_count(base))
        )
        assert token_count(document) == tokens
        return document

    app = await start_app(max_tokens=limit)
    accepted, refused = await at_and_over_the_limit(
        app,
        engine,
        with_tokens("at.limit@example.com", limit),
        with_tokens("over.limit@example.com", limit + 1),
    )

    assert_registered(accepted)
    assert_refused_before_execution(refused, f"more than {limit} tokens")


# Document size


async def test_a_document_at_the_size_limit_runs_and_one_over_is_refused_before_execution(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    limit = 300

    def with_length(email: str, length: int) -> str:
        base = register_document(email, "accessToken")
        # Whitespace: longer, without a single token more.
        document = register_document(email, "accessToken", " " * (length - len(base)))
        assert len(document) == length
        return document

    app = await start_app(max_document_chars=limit)
    accepted, refused = await at_and_over_the_limit(
        app,
        engine,
        with_length("at.limit@example.com", limit),
        with_length("over.limit@example.com", limit + 1),
    )

    assert_registered(accepted)
    assert_refused_before_execution(refused, f"longer than {limit} characters")


# Cost


async def test_a_document_at_the_cost_limit_runs_and_one_over_is_refused_with_its_cost(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    app = await start_app(max_query_cost=20)
    # register 1 + accessToken 1 + refreshToken 1 + user 1 + auditLogs (1 + 5 x 3) = 20
    twenty = "accessToken refreshToken user { auditLogs(first: 5) { edges { node { id } } } }"
    accepted, refused = await at_and_over_the_limit(
        app,
        engine,
        register_document("at.limit@example.com", twenty),
        register_document("over.limit@example.com", f"accessTokenExpiresAt {twenty}"),
    )

    assert_registered(accepted)
    error = assert_refused_before_execution(refused, "too expensive")
    assert error["extensions"] == {"code": VALIDATION_FAILED, "cost": 21, "maxCost": 20}


async def test_the_shipped_cost_limit_accepts_a_page_of_users_with_their_audit_logs(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    # users 1 + 100 x (edges 1 + node 1 + profile 2 + auditLogs (1 + 5 x 3)) = 2001
    query = """{ users(first: 100) { edges { node { profile { phone }
        auditLogs(first: 5) { edges { node { action } } } } } } }"""

    result = await client.execute(query, token=staff.access_token)

    [edge] = result.ok()["users"]["edges"]
    assert edge["node"]["auditLogs"]["edges"] == [{"node": {"action": "REGISTER"}}]


async def test_the_shipped_cost_limit_accepts_5000_and_refuses_5001(
    client: GraphQLClient,
) -> None:
    page = "users(first: 1666) { edges { node { id } } }"  # 1 + 1666 x 3 = 4999

    at_limit = await client.execute(f"{{ __typename {page} }}")
    over_limit = await client.execute(f"{{ me {{ id }} {page} }}")

    # Accepted by the cost limit: it runs, and only then is refused for other reasons.
    assert VALIDATION_FAILED not in at_limit.error_codes, at_limit.errors
    assert at_limit.error_codes == ["UNAUTHENTICATED"]
    error = assert_refused_before_execution(over_limit, "too expensive")
    assert error["extensions"]["cost"] == SHIPPED_MAX_COST + 1
    assert error["extensions"]["maxCost"] == SHIPPED_MAX_COST


async def test_the_cost_counts_a_page_size_given_as_a_variable(client: GraphQLClient) -> None:
    query = "query Page($n: Int) { users(first: $n) { edges { node { id } } } }"

    result = await client.execute(query, {"n": 2000})

    error = assert_refused_before_execution(result, "too expensive")
    assert error["extensions"]["cost"] == 1 + 2000 * 3


# Request timeout

# argon2 parameters that make one verification take far longer than the timeout below.
SLOW_HASHING = {"argon2_time_cost": 8, "argon2_memory_cost_kib": 64 * 1024}


async def test_an_operation_over_the_request_timeout_is_service_unavailable_and_writes_nothing(
    start_app: StartApp, engine: AsyncEngine
) -> None:
    patient = await start_app(**SLOW_HASHING)
    hurried = await start_app(**SLOW_HASHING, request_timeout_seconds=0.05)
    async with device(patient) as client:
        account = await client.register("slow.login@example.com")
    user_id = uuid.UUID(account.id)

    async with device(hurried) as client:
        result = await client.execute(
            LOGIN, {"input": {"email": account.email, "password": account.password}}
        )
    # Let the abandoned argon2 verification finish in its thread.
    await asyncio.sleep(0.5)

    assert result.status == 200
    assert result.error_codes == ["SERVICE_UNAVAILABLE"]
    assert result.data is None
    assert "refresh" not in result.http.headers.get("set-cookie", "")
    # Nothing of the login was written: no session, no last login, no audit row.
    sessions = "SELECT count(*) FROM auth_sessions WHERE user_id = :id"
    assert await scalar(engine, sessions, id=user_id) == 1  # the registration's
    last_login = "SELECT last_login FROM users WHERE id = :id"
    assert await scalar(engine, last_login, id=user_id) is None
    assert await audit_rows(engine, "LOGIN") == []


# Introspection and suggestions

INTROSPECTION = "{ __schema { queryType { name } } }"
TYPE_INTROSPECTION = '{ __type(name: "User") { name } }'
MISSPELLED = {
    "field": ("{ mee { id } }", "'me'"),
    "argument": ('{ user(idd: "x") { id } }', "'id'"),
    "type": ("{ ... on Qury { me { id } } }", "'Query'"),
    "enum value": ("{ auditLogs(filter: {actions: [LOGN]}) { totalCount } }", "'LOGIN'"),
}


async def test_introspection_is_refused_in_production(start_app: StartApp) -> None:
    app = await start_app(**PRODUCTION)
    async with device(app) as client:
        schema = await client.execute(INTROSPECTION)
        one_type = await client.execute(TYPE_INTROSPECTION)
        typename = await client.execute("{ __typename }")

    assert_refused_before_execution(schema, "introspection has been disabled")
    assert_refused_before_execution(one_type, "introspection has been disabled")
    assert typename.ok() == {"__typename": "Query"}


async def test_production_validation_errors_carry_no_did_you_mean(start_app: StartApp) -> None:
    app = await start_app(**PRODUCTION)
    async with device(app) as client:
        results = {kind: await client.execute(doc) for kind, (doc, _) in MISSPELLED.items()}

    for kind, result in results.items():
        assert_refused_before_execution(result, "")
        assert "Did you mean" not in result.http.text, kind


async def test_production_variable_errors_carry_no_did_you_mean(start_app: StartApp) -> None:
    app = await start_app(**PRODUCTION)
    async with device(app) as client:
        enum_value = await client.execute(
            "query Q($a: [AuditAction!]) { auditLogs(filter: {actions: $a}) { totalCount } }",
            {"a": ["LOGN"]},
        )
        input_field = await client.execute(
            "mutation R($i: RegisterInput!) { register(input: $i) { accessToken } }",
            {"i": {"email": "a@example.com", "passwrd": DEFAULT_PASSWORD}},
        )

    for result in (enum_value, input_field):
        assert set(result.error_codes) == {"BAD_USER_INPUT"}, result.errors
        assert "Did you mean" not in result.http.text, result.errors


async def test_introspection_and_suggestions_are_on_in_test_and_development(
    start_app: StartApp,
) -> None:
    for app_env in ("test", "development"):
        app = await start_app(app_env=app_env)
        async with device(app) as client:
            schema = await client.execute(INTROSPECTION)
            one_type = await client.execute(TYPE_INTROSPECTION)
            misspelled = {kind: await client.execute(doc) for kind, (doc, _) in MISSPELLED.items()}

        assert schema.ok() == {"__schema": {"queryType": {"name": "Query"}}}, app_env
        assert one_type.ok() == {"__type": {"name": "User"}}, app_env
        for kind, (_, suggestion) in MISSPELLED.items():
            assert "Did you mean" in misspelled[kind].http.text, (app_env, kind)
            assert suggestion in misspelled[kind].http.text, (app_env, kind)
