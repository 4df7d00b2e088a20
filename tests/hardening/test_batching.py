"""Batching: a POST body that is a JSON array of operations.

Off by default (400). With BATCHING on, 1 to MAX_BATCH_OPERATIONS (10) operations run
one after the other, each with its own unit of work, and answer an array of results in
order. A request may call login, register or refresh at most once in all (aliases and
fragments included). A batch of N costs N from the per-IP request budget. Everything a
batch is refused for is refused before any of its operations runs."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.hardening.conftest import PREFLIGHT, StartApp
from tests.support.accounts import device, scalar
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, REGISTER, Account, GraphQLClient

TYPENAME = {"query": "{ __typename }"}
DEFAULT_MAX_OPERATIONS = 10
UPDATE = """
mutation Update($input: UpdateProfileInput!) {
  updateProfile(input: $input) { username firstName lastName }
}"""
NAMES = "query { me { username firstName lastName } }"


def register(email: str) -> dict[str, Any]:
    return {
        "query": REGISTER,
        "variables": {"input": {"email": email, "password": DEFAULT_PASSWORD}},
    }


def login(email: str) -> dict[str, Any]:
    return {"query": LOGIN, "variables": {"input": {"email": email, "password": DEFAULT_PASSWORD}}}


def update(**fields: str) -> dict[str, Any]:
    return {"query": UPDATE, "variables": {"input": fields}}


def operations_run(app: Starlette) -> float:
    """Every operation the app has executed, whatever its label."""
    total = 0.0
    for family in app.state.resources.metrics.operations.collect():
        for sample in family.samples:
            if sample.name == "glassshop_graphql_operations_total":
                total += sample.value
    return total


async def post(client: GraphQLClient, body: object, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.http.post("/graphql", json=body, headers=headers)


def assert_refused(reply: httpx.Response, status: int = 400) -> str:
    """Refused as a whole: one error, no data, no array of results."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"errors"}, body
    [error] = body["errors"]
    message: str = error["message"]
    return message


async def users(engine: AsyncEngine) -> int:
    count: int = await scalar(engine, "SELECT count(*) FROM users")
    return count


@pytest.fixture
async def batching_app(start_app: StartApp) -> Starlette:
    return await start_app(batching=True)


@pytest.fixture
async def batching(batching_app: Starlette) -> AsyncIterator[GraphQLClient]:
    async with device(batching_app) as client:
        yield client


# Off by default


async def test_a_batch_is_refused_when_batching_is_off(
    app: Starlette, client: GraphQLClient
) -> None:
    before = operations_run(app)

    reply = await post(client, [TYPENAME, TYPENAME])

    assert assert_refused(reply) == "Batching is not enabled."
    assert reply.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert operations_run(app) == before


def test_batching_is_off_by_default_with_ten_operations_at_most() -> None:
    from api.settings import Settings

    assert Settings.model_fields["batching"].default is False
    assert Settings.model_fields["max_batch_operations"].default == DEFAULT_MAX_OPERATIONS


# Results


async def test_a_batch_answers_an_array_of_results_in_order(batching: GraphQLClient) -> None:
    reply = await post(
        batching,
        [
            {"query": "{ a: __typename }"},
            {
                "query": "query T($n: String!) { __type(name: $n) { name } }",
                "variables": {"n": "User"},
            },
            {"query": "{ b: __typename }"},
        ],
    )

    assert reply.status_code == 200
    assert reply.json() == [
        {"data": {"a": "Query"}},
        {"data": {"__type": {"name": "User"}}},
        {"data": {"b": "Query"}},
    ]


async def test_a_request_error_in_one_operation_leaves_the_others_to_run(
    batching: GraphQLClient,
) -> None:
    reply = await post(batching, [TYPENAME, {"query": "{ nope }"}, TYPENAME])

    first, failed, last = reply.json()
    assert first == last == {"data": {"__typename": "Query"}}
    assert set(failed) == {"errors"}
    assert failed["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_each_mutation_commits_or_rolls_back_on_its_own(
    batching: GraphQLClient,
) -> None:
    await batching.register("holder@example.com", username="taken")
    account = await batching.register("batch.owner@example.com")

    reply = await post(
        batching,
        [
            update(firstName="Ann"),
            update(username="taken", lastName="Lost"),
            update(lastName="Lee"),
        ],
        account.access_token,
    )
    now = await batching.execute(NAMES, token=account.access_token)

    ok, conflict, later = reply.json()
    assert ok["data"]["updateProfile"]["firstName"] == "Ann"
    assert conflict["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert later["data"]["updateProfile"]["lastName"] == "Lee"
    me = now.ok()["me"]
    assert (me["firstName"], me["lastName"]) == ("Ann", "Lee")
    assert me["username"] != "taken"


async def test_a_later_operation_sees_what_an_earlier_one_committed(
    batching: GraphQLClient,
) -> None:
    account = await batching.register("batch.order@example.com")

    reply = await post(
        batching, [update(firstName="Grace"), {"query": NAMES}], account.access_token
    )

    assert reply.json()[1]["data"]["me"]["firstName"] == "Grace"


# Size


async def test_a_batch_of_the_maximum_size_runs(batching: GraphQLClient) -> None:
    reply = await post(batching, [TYPENAME] * DEFAULT_MAX_OPERATIONS)

    assert reply.status_code == 200
    assert reply.json() == [{"data": {"__typename": "Query"}}] * DEFAULT_MAX_OPERATIONS


async def test_a_batch_over_the_maximum_size_is_refused_before_anything_runs(
    batching_app: Starlette, batching: GraphQLClient
) -> None:
    before = operations_run(batching_app)

    reply = await post(batching, [TYPENAME] * (DEFAULT_MAX_OPERATIONS + 1))

    assert assert_refused(reply) == "A batch may hold at most 10 operations."
    assert operations_run(batching_app) == before


async def test_the_maximum_size_is_a_setting(start_app: StartApp) -> None:
    app = await start_app(batching=True, max_batch_operations=3)

    async with device(app) as client:
        at_limit = await post(client, [TYPENAME] * 3)
        over = await post(client, [TYPENAME] * 4)

    assert len(at_limit.json()) == 3
    assert assert_refused(over) == "A batch may hold at most 3 operations."


async def test_an_empty_batch_is_refused(batching: GraphQLClient) -> None:
    assert assert_refused(await post(batching, [])) == "A batch must hold at least one operation."


async def test_a_batch_of_one_answers_an_array_of_one(batching: GraphQLClient) -> None:
    reply = await post(batching, [TYPENAME])

    assert reply.json() == [{"data": {"__typename": "Query"}}]


@pytest.mark.parametrize("item", ["{ __typename }", 1, None, [TYPENAME]])
async def test_a_batch_item_that_is_not_an_object_is_refused(
    batching: GraphQLClient, item: object
) -> None:
    reply = await post(batching, [TYPENAME, item])

    assert assert_refused(reply) == "Each operation of a batch must be a JSON object."


async def test_a_batch_item_without_a_query_is_refused_before_anything_runs(
    batching_app: Starlette, batching: GraphQLClient
) -> None:
    before = operations_run(batching_app)

    reply = await post(batching, [TYPENAME, {"variables": {}}])

    assert assert_refused(reply) == "Every operation of a batch needs a GraphQL query."
    assert operations_run(batching_app) == before


# Sign-in operations: one per request


async def test_one_sign_in_operation_in_a_batch_runs(
    batching: GraphQLClient, engine: AsyncEngine
) -> None:
    reply = await post(batching, [register("one@example.com"), TYPENAME])

    registered, typename = reply.json()
    assert registered["data"]["register"]["user"]["email"] == "one@example.com"
    assert typename == {"data": {"__typename": "Query"}}
    assert await users(engine) == 1


async def test_two_sign_in_operations_in_a_batch_are_refused_before_anything_runs(
    batching: GraphQLClient, engine: AsyncEngine
) -> None:
    reply = await post(batching, [register("two@example.com"), login("two@example.com")])

    assert "only once" in assert_refused(reply)
    assert await users(engine) == 0


async def test_two_registers_are_refused_even_for_different_emails(
    batching: GraphQLClient, engine: AsyncEngine
) -> None:
    reply = await post(batching, [register("a@example.com"), register("b@example.com")])

    assert_refused(reply)
    assert await users(engine) == 0


async def test_aliased_sign_ins_in_one_operation_are_refused(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    # Not a batch at all: the same rule holds for every request.
    document = """
    mutation Twice($a: RegisterInput!, $b: RegisterInput!) {
      first: register(input: $a) { accessToken }
      second: register(input: $b) { accessToken }
    }"""
    credentials = {"password": DEFAULT_PASSWORD}
    variables = {
        "a": {"email": "x@example.com", **credentials},
        "b": {"email": "y@example.com", **credentials},
    }

    reply = await post(client, {"query": document, "variables": variables})

    assert "only once" in assert_refused(reply)
    assert await users(engine) == 0


async def test_sign_ins_hidden_in_root_fragments_are_counted(
    batching: GraphQLClient, engine: AsyncEngine
) -> None:
    in_fragments = """
    mutation Hidden($input: RegisterInput!) { ...Named ... on Mutation { refresh { accessToken } } }
    fragment Named on Mutation { register(input: $input) { accessToken } }"""
    body = {
        "query": in_fragments,
        "variables": {"input": {"email": "frag@example.com", "password": DEFAULT_PASSWORD}},
    }

    reply = await post(batching, [body])

    assert_refused(reply)
    assert await users(engine) == 0


async def test_one_sign_in_in_a_root_fragment_runs(batching: GraphQLClient) -> None:
    document = """
    mutation One($input: RegisterInput!) { ...Named }
    fragment Named on Mutation { register(input: $input) { user { email } } }"""
    body = {
        "query": document,
        "variables": {"input": {"email": "frag.one@example.com", "password": DEFAULT_PASSWORD}},
    }

    reply = await post(batching, [body, TYPENAME])

    assert reply.json()[0]["data"]["register"]["user"]["email"] == "frag.one@example.com"


async def test_an_alias_named_like_a_sign_in_field_is_not_one(batching: GraphQLClient) -> None:
    reset = 'requestPasswordReset(email: "alias@example.com")'
    aliased = {"query": f"mutation {{ login: {reset} refresh: {reset} }}"}

    reply = await post(batching, [register("alias@example.com"), aliased])

    registered, resets = reply.json()
    assert registered["data"]["register"]["user"]["email"] == "alias@example.com"
    assert resets == {"data": {"login": True, "refresh": True}}


async def test_an_operation_not_selected_by_name_is_not_counted(batching: GraphQLClient) -> None:
    two_operations = {
        "query": "mutation A($i: LoginInput!) { login(input: $i) { accessToken } } "
        "query B { __typename }",
        "operationName": "B",
    }

    reply = await post(batching, [register("named@example.com"), two_operations])

    assert reply.json()[1] == {"data": {"__typename": "Query"}}


def registers(*emails: str) -> str:
    return " ".join(
        f'r{n}: register(input: {{email: "{email}", password: "{DEFAULT_PASSWORD}"}}) '
        "{ accessToken }"
        for n, email in enumerate(emails)
    )


async def test_several_operations_without_an_operation_name_are_refused_and_none_runs(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    document = (
        f"mutation A {{ {registers('a1@example.com', 'a2@example.com')} }} "
        f"mutation B {{ {registers('b1@example.com')} }}"
    )

    reply = await post(client, {"query": document})

    assert reply.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "operationName" in reply.json()["errors"][0]["message"]
    assert "data" not in reply.json()
    assert await scalar(engine, "SELECT count(*) FROM users") == 0


async def test_the_operation_named_by_operation_name_is_the_one_counted_and_run(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    document = (
        f"mutation A {{ {registers('a1@example.com', 'a2@example.com')} }} "
        f"mutation B {{ {registers('b1@example.com')} }}"
    )

    refused = await post(client, {"query": document, "operationName": "A"})
    ran = await post(client, {"query": document, "operationName": "B"})

    assert assert_refused(refused)
    assert ran.json()["data"]["r0"]["accessToken"]
    assert await scalar(engine, "SELECT email FROM users") == "b1@example.com"


# Transport rules still hold


async def test_a_batch_is_post_only_and_a_mutation_over_get_is_still_405(
    batching: GraphQLClient,
) -> None:
    reply = await batching.http.get(
        "/graphql", params={"query": "mutation { logout }"}, headers=PREFLIGHT
    )

    assert reply.status_code == 405


async def test_a_batch_sent_as_text_plain_is_still_415(batching: GraphQLClient) -> None:
    reply = await batching.http.post(
        "/graphql", content=b'[{"query": "{ __typename }"}]', headers={"content-type": "text/plain"}
    )

    assert reply.status_code == 415


# Persisted queries inside a batch


def persisted(query: str) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_persisted_queries_work_inside_a_batch(batching: GraphQLClient) -> None:
    stored = "{ stored: __typename }"
    unknown = "{ unknown: __typename }"

    reply = await post(
        batching,
        [
            {"query": stored, "extensions": persisted(stored)},
            {"extensions": persisted(stored)},
            {"extensions": persisted(unknown)},
        ],
    )

    registered, by_hash, missing = reply.json()
    assert registered == by_hash == {"data": {"stored": "Query"}}
    assert missing["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_persisted_sign_in_counts_like_any_other(
    batching: GraphQLClient, engine: AsyncEngine
) -> None:
    first = register("apq.one@example.com")
    await post(batching, [{**first, "extensions": persisted(first["query"])}])
    by_hash = {"variables": register("apq.two@example.com")["variables"]}

    reply = await post(
        batching,
        [
            {**by_hash, "extensions": persisted(REGISTER)},
            register("apq.three@example.com"),
        ],
    )

    assert "only once" in assert_refused(reply)
    assert await users(engine) == 1


# The request budget


async def test_a_batch_costs_one_request_per_operation(start_app: StartApp) -> None:
    app = await start_app(batching=True, rate_requests_ip="5/60")

    async with device(app, ip="198.51.100.20") as client:
        at_budget = await post(client, [TYPENAME] * 5)
        over = await post(client, TYPENAME)

    assert len(at_budget.json()) == 5
    assert over.status_code == 429


async def test_a_batch_over_the_budget_is_429_before_anything_runs(start_app: StartApp) -> None:
    app = await start_app(batching=True, rate_requests_ip="5/60")
    before = operations_run(app)

    async with device(app, ip="198.51.100.21") as client:
        over = await post(client, [TYPENAME] * 6)

    assert assert_refused(over, 429)
    error = over.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert int(over.headers["retry-after"]) == error["extensions"]["retryAfter"] > 0
    assert operations_run(app) == before


async def test_a_single_operation_costs_one(start_app: StartApp) -> None:
    app = await start_app(batching=True, rate_requests_ip="5/60")

    async with device(app, ip="198.51.100.22") as client:
        replies = [await post(client, TYPENAME) for _ in range(5)]
        over = await post(client, [TYPENAME])

    assert {reply.status_code for reply in replies} == {200}
    assert over.status_code == 429


async def test_the_login_limit_counts_a_batched_login(start_app: StartApp) -> None:
    app = await start_app(batching=True, rate_login_ip="2/300")

    async with device(app, ip="198.51.100.23") as client:
        account: Account = await client.register("budget.login@example.com")
        first = await post(client, [login(account.email), TYPENAME])
        second = await post(client, [TYPENAME, login(account.email)])
        third = await post(client, [login(account.email)])

    assert first.json()[0]["data"]["login"]["accessToken"]
    assert second.json()[1]["data"]["login"]["accessToken"]
    assert third.json()[0]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_the_request_timeout_bounds_the_whole_batch_not_each_operation(
    start_app: StartApp,
) -> None:
    # argon2 slow enough that the login alone outlasts the timeout: the operation after
    # it, however quick, is past the request's deadline too.
    slow = {"argon2_time_cost": 8, "argon2_memory_cost_kib": 64 * 1024}
    patient = await start_app(**slow)
    hurried = await start_app(**slow, batching=True, request_timeout_seconds=0.05)
    async with device(patient) as client:
        await client.register("slow.batch@example.com")

    async with device(hurried) as client:
        reply = await post(client, [login("slow.batch@example.com"), {"query": "{ __typename }"}])
    await asyncio.sleep(0.5)  # let the abandoned argon2 verification finish in its thread

    assert reply.status_code == 200
    codes = [[e["extensions"]["code"] for e in result["errors"]] for result in reply.json()]
    assert codes == [["SERVICE_UNAVAILABLE"], ["SERVICE_UNAVAILABLE"]]
