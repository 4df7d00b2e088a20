"""A document text parsed and validated once is not parsed or validated again; nothing
that depends on more than the text (variables, cost) is skipped, and invalid documents
are never remembered."""

from __future__ import annotations

from graphql import parse
from starlette.applications import Starlette
from starlette.routing import Route

from schema.root import GlassShopSchema
from schema.validation_cache import ValidDocuments
from tests.support.graphql import ME, GraphQLClient

PAGE = "query Page($n: Int) { users(first: $n) { edges { node { id } } } }"
INVALID = "query { me { noSuchField } }"


def schema_of(app: Starlette) -> GlassShopSchema:
    for route in app.routes:
        if isinstance(route, Route) and route.path == "/graphql":
            schema = route.endpoint.schema  # type: ignore[attr-defined]
            assert isinstance(schema, GlassShopSchema)
            return schema
    raise AssertionError("no /graphql route")


async def test_a_valid_document_is_remembered_after_its_first_request(
    app: Starlette, client: GraphQLClient
) -> None:
    await client.register("ada@example.com")
    known = schema_of(app).valid_documents

    (await client.execute(ME)).ok()

    assert ME in known


async def test_an_invalid_document_is_refused_every_time_and_never_remembered(
    app: Starlette, client: GraphQLClient
) -> None:
    first = await client.execute(INVALID)
    second = await client.execute(INVALID)

    assert first.error_codes == second.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" not in second.body
    assert INVALID not in schema_of(app).valid_documents


async def test_a_remembered_document_is_still_costed_with_each_requests_variables(
    app: Starlette, client: GraphQLClient
) -> None:
    staff = await client.register("staff@example.com")
    cheap = await client.execute(PAGE, {"n": 2}, token=staff.access_token)
    assert PAGE in schema_of(app).valid_documents
    assert "data" in cheap.body  # ran (FORBIDDEN for a non-staff user is an execution)

    expensive = await client.execute(PAGE, {"n": 2000}, token=staff.access_token)

    assert "data" not in expensive.body
    assert expensive.errors[0]["extensions"]["cost"] == 1 + 2000 * 3


def test_the_least_recently_used_text_is_forgotten_first() -> None:
    known = ValidDocuments(size=2)
    for text in ("query A { me { id } }", "query B { me { id } }"):
        known.add(text, parse(text))
    assert known.get("query A { me { id } }")  # used: B is now the oldest

    known.add("query C { me { id } }", parse("query C { me { id } }"))

    assert "query B { me { id } }" not in known
    assert "query A { me { id } }" in known and "query C { me { id } }" in known
    assert len(known) == 2


async def test_a_remembered_document_answers_as_it_did_the_first_time(
    app: Starlette, client: GraphQLClient
) -> None:
    account = await client.register("ada@example.com")
    first = await client.execute(ME, token=account.access_token)
    assert ME in schema_of(app).valid_documents

    again = await client.execute(ME, token=account.access_token)

    assert again.ok() == first.ok() == {"me": {"id": account.id, "email": account.email}}


async def test_a_syntax_error_is_refused_every_time(client: GraphQLClient) -> None:
    for _ in range(2):
        result = await client.execute("query { me { id }")
        assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
        assert "Syntax Error" in result.errors[0]["message"]
