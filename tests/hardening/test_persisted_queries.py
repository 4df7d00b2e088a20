"""Automatic persisted queries (APQ) and the Cache-Control of GraphQL responses.

A client sends only `extensions.persistedQuery.sha256Hash`; an unknown hash is
PERSISTED_QUERY_NOT_FOUND (HTTP 200, never cached), the client resends with the query,
which is checked against the hash and stored in Redis for every instance."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.hardening.conftest import PREFLIGHT, UNREACHABLE_REDIS, StartApp
from tests.support.accounts import device, scalar
from tests.support.graphql import ME, GraphQLClient

TYPENAME = "{ __typename }"
PUBLIC_CACHE_SECONDS = 30  # the shipped PUBLIC_CACHE_SECONDS
APQ_TTL_SECONDS = 7 * 24 * 3600  # the shipped APQ_TTL


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def post_apq(
    client: GraphQLClient, digest: str, query: str | None = None, **headers: str
) -> httpx.Response:
    body: dict[str, Any] = {"extensions": persisted(digest)}
    if query is not None:
        body["query"] = query
    return await client.http.post("/graphql", json=body, headers=headers)


async def get_apq(client: GraphQLClient, digest: str, **headers: str) -> httpx.Response:
    params = {"extensions": json.dumps(persisted(digest))}
    return await client.http.get("/graphql", params=params, headers={**PREFLIGHT, **headers})


def codes(reply: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in reply.json().get("errors", [])]


def stored_keys(digest: str) -> str:
    return f"glassshop:apq:{digest}"


async def outbox_count(engine: AsyncEngine) -> int:
    count: int = await scalar(engine, "SELECT count(*) FROM outbox_messages")
    return count


async def test_an_unknown_hash_is_persisted_query_not_found_with_http_200_and_no_cache(
    client: GraphQLClient,
) -> None:
    reply = await post_apq(client, sha256("{ me { id email } }"))

    assert reply.status_code == 200
    assert codes(reply) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert reply.headers["cache-control"] == "private, no-cache"


async def test_an_unknown_hash_over_get_is_not_publicly_cacheable(client: GraphQLClient) -> None:
    reply = await get_apq(client, sha256("{ me { id email } }"))

    assert reply.status_code == 200
    assert codes(reply) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert reply.headers["cache-control"] == "private, no-cache"


async def test_hash_and_query_run_the_query_and_store_it(
    client: GraphQLClient, redis: Redis
) -> None:
    digest = sha256(TYPENAME)

    reply = await post_apq(client, digest, TYPENAME)

    assert reply.json() == {"data": {"__typename": "Query"}}
    assert await redis.get(stored_keys(digest)) == TYPENAME.encode()
    assert 0 < await redis.ttl(stored_keys(digest)) <= APQ_TTL_SECONDS


async def test_a_stored_query_runs_from_its_hash_alone_over_post(client: GraphQLClient) -> None:
    digest = sha256(TYPENAME)
    await post_apq(client, digest, TYPENAME)

    reply = await post_apq(client, digest)

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_stored_query_runs_from_its_hash_alone_over_get(client: GraphQLClient) -> None:
    digest = sha256(TYPENAME)
    await post_apq(client, digest, TYPENAME)

    reply = await get_apq(client, digest)

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_hash_is_accepted_in_upper_case(client: GraphQLClient) -> None:
    digest = sha256(TYPENAME)
    await post_apq(client, digest, TYPENAME)

    reply = await post_apq(client, digest.upper())

    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_query_stored_on_one_instance_runs_on_another(
    client: GraphQLClient, start_app: StartApp
) -> None:
    digest = sha256(TYPENAME)
    await post_apq(client, digest, TYPENAME)
    other = await start_app()

    async with device(other) as elsewhere:
        reply = await post_apq(elsewhere, digest)

    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_hash_that_does_not_match_the_query_is_bad_user_input_and_not_stored(
    client: GraphQLClient, redis: Redis
) -> None:
    wrong = sha256("{ me { id } }")

    reply = await post_apq(client, wrong, TYPENAME)
    again = await post_apq(client, wrong)

    assert reply.status_code == 200
    assert codes(reply) == ["BAD_USER_INPUT"]
    assert "persistedQuery" in reply.json()["errors"][0]["extensions"]["fields"]
    assert "data" not in reply.json() or reply.json()["data"] is None
    assert await redis.keys("glassshop:apq:*") == []
    assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    "extension",
    [
        {"version": 2, "sha256Hash": sha256(TYPENAME)},
        {"version": 1, "sha256Hash": "abc"},
        {"version": 1},
        "not an object",
    ],
    ids=["version 2", "short hash", "no hash", "not an object"],
)
async def test_a_malformed_persisted_query_extension_is_bad_user_input(
    client: GraphQLClient, extension: object
) -> None:
    reply = await client.http.post(
        "/graphql", json={"query": TYPENAME, "extensions": {"persistedQuery": extension}}
    )

    assert reply.status_code == 200
    assert codes(reply) == ["BAD_USER_INPUT"]


async def test_a_persisted_mutation_over_get_is_405_and_not_executed(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    mutation = 'mutation { requestPasswordReset(email: "apq.get@example.com") }'
    digest = sha256(mutation)
    stored = await post_apq(client, digest, mutation)
    assert stored.json() == {"data": {"requestPasswordReset": True}}
    assert await outbox_count(engine) == 1

    reply = await get_apq(client, digest)

    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"
    assert await outbox_count(engine) == 1


async def test_with_redis_unreachable_a_query_sent_with_its_hash_still_runs(
    start_app: StartApp,
) -> None:
    app = await start_app(redis_url=UNREACHABLE_REDIS, redis_socket_timeout_seconds=0.5)
    digest = sha256(TYPENAME)

    async with device(app) as client:
        full = await post_apq(client, digest, TYPENAME)
        hash_only = await post_apq(client, digest)

    # Nothing is stored, so the client is told to resend; nothing fails.
    assert full.json() == {"data": {"__typename": "Query"}}
    assert codes(hash_only) == ["PERSISTED_QUERY_NOT_FOUND"]


# Cache-Control


async def test_an_anonymous_get_query_is_publicly_cacheable_for_a_short_time(
    client: GraphQLClient,
) -> None:
    reply = await client.http.get("/graphql", params={"query": TYPENAME}, headers=PREFLIGHT)

    assert reply.json() == {"data": {"__typename": "Query"}}
    assert reply.headers["cache-control"] == f"public, max-age={PUBLIC_CACHE_SECONDS}"


async def test_an_anonymous_persisted_get_query_is_publicly_cacheable(
    client: GraphQLClient,
) -> None:
    digest = sha256(TYPENAME)
    await post_apq(client, digest, TYPENAME)

    reply = await get_apq(client, digest)

    assert reply.headers["cache-control"] == f"public, max-age={PUBLIC_CACHE_SECONDS}"


async def test_an_authenticated_get_query_is_private_and_not_stored(
    client: GraphQLClient,
) -> None:
    account = await client.register("cache.private@example.com")

    reply = await client.http.get(
        "/graphql",
        params={"query": ME},
        headers={"authorization": f"Bearer {account.access_token}", **PREFLIGHT},
    )

    assert reply.json()["data"]["me"]["id"] == account.id
    assert reply.headers["cache-control"] == "private, no-store"


async def test_an_authenticated_persisted_get_query_is_private_and_not_stored(
    client: GraphQLClient,
) -> None:
    account = await client.register("cache.apq@example.com")
    digest = sha256(ME)
    await post_apq(client, digest, ME)

    reply = await get_apq(client, digest, authorization=f"Bearer {account.access_token}")

    assert reply.json()["data"]["me"]["id"] == account.id
    assert reply.headers["cache-control"] == "private, no-store"


async def test_a_post_query_is_private_and_not_stored(client: GraphQLClient) -> None:
    result = await client.execute(TYPENAME)

    assert result.http.headers["cache-control"] == "private, no-store"


async def test_a_public_cache_time_of_zero_makes_get_queries_private(
    start_app: StartApp,
) -> None:
    app = await start_app(public_cache_seconds=0)

    async with device(app) as client:
        reply = await client.http.get("/graphql", params={"query": TYPENAME}, headers=PREFLIGHT)

    assert reply.headers["cache-control"] == "private, no-store"


async def test_a_publicly_cacheable_response_varies_on_authorization(
    client: GraphQLClient,
) -> None:
    reply = await client.http.get("/graphql", params={"query": ME}, headers=PREFLIGHT)

    assert reply.headers["cache-control"].startswith("public")
    varies = {name.strip().lower() for name in reply.headers.get("vary", "").split(",")}
    assert "authorization" in varies


# What may be stored, and how much


@pytest.mark.parametrize(
    "document",
    ["{ noSuchField }", "{ __typename", "query($n: Int!) { users(first: $n) { totalCount } }"],
    ids=["invalid", "unparseable", "invalid variables"],
)
async def test_a_document_that_does_not_run_valid_is_not_stored(
    client: GraphQLClient, redis: Redis, document: str
) -> None:
    reply = await post_apq(client, sha256(document), document)

    assert codes(reply)  # refused before execution
    assert await redis.keys("glassshop:apq:*") == []


async def test_a_client_ip_may_register_only_so_many_new_hashes(start_app: StartApp) -> None:
    app = await start_app(rate_apq_register_ip="3/3600")
    documents = [f"{{ n{n}: __typename }}" for n in range(4)]

    async with device(app, ip="198.51.100.30") as client:
        replies = [await post_apq(client, sha256(d), d) for d in documents]
        by_hash = [await post_apq(client, sha256(d)) for d in documents]

    assert [reply.json().get("data") for reply in replies] == [
        {f"n{n}": "Query"} for n in range(4)
    ]  # every one ran
    assert [codes(reply) for reply in by_hash] == [[], [], [], ["PERSISTED_QUERY_NOT_FOUND"]]


async def test_sending_a_stored_document_again_registers_nothing_new(start_app: StartApp) -> None:
    app = await start_app(rate_apq_register_ip="1/3600")
    first, second = "{ a: __typename }", "{ b: __typename }"

    async with device(app, ip="198.51.100.31") as client:
        await post_apq(client, sha256(first), first)
        await post_apq(client, sha256(first), first)  # Apollo resends after a miss
        await post_apq(client, sha256(second), second)
        replies = [await post_apq(client, sha256(d)) for d in (first, second)]

    assert [codes(reply) for reply in replies] == [[], ["PERSISTED_QUERY_NOT_FOUND"]]


async def test_the_store_keeps_at_most_apq_max_entries_the_oldest_leaving_first(
    start_app: StartApp, redis: Redis
) -> None:
    app = await start_app(persisted_query_max_entries=3)
    documents = [f"{{ m{n}: __typename }}" for n in range(5)]

    async with device(app) as client:
        for document in documents:
            await post_apq(client, sha256(document), document)

    stored = set(await redis.keys("glassshop:apq:*"))
    assert stored == {stored_keys(sha256(d)).encode() for d in documents[2:]}
