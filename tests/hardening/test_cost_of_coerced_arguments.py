"""The cost limit prices a page size as execution will see it: after the variables are
coerced (defaults applied, an integral float made an Int) and the field's arguments are
read from them. A page size the cost limit cannot read is one execution refuses."""

from __future__ import annotations

from typing import Any

from tests.hardening.test_limits import assert_refused_before_execution
from tests.support.graphql import GraphQLClient

# users 1 + 100 x (edges 1 + node 1 + auditLogs (1 + 100 x 3)) = 30301
NESTED_PAGES = """
query Pages{declaration} {{
  users(first: {size}) {{ edges {{ node {{
    auditLogs(first: {size}) {{ edges {{ node {{ id }} }} }}
  }} }} }}
}}"""
NESTED_COST = 1 + 100 * (1 + 1 + (1 + 100 * 3))


def nested_pages(size: str, declaration: str = "") -> str:
    return NESTED_PAGES.format(size=size, declaration=declaration)


async def refusal_of_the_literal(client: GraphQLClient) -> dict[str, Any]:
    """The error the same pages written as literals get."""
    error = assert_refused_before_execution(
        await client.execute(nested_pages("100")), "too expensive"
    )
    assert error["extensions"]["cost"] == NESTED_COST
    return error


async def test_a_page_size_from_a_variables_default_costs_what_the_literal_costs(
    client: GraphQLClient,
) -> None:
    literal = await refusal_of_the_literal(client)

    result = await client.execute(nested_pages("$n", "($n: Int = 100)"))

    assert assert_refused_before_execution(result, "too expensive") == literal


async def test_a_page_size_sent_as_an_integral_float_costs_what_the_literal_costs(
    client: GraphQLClient,
) -> None:
    # JSON's 100.0 is a float; graphql-core coerces it to the Int 100.
    literal = await refusal_of_the_literal(client)

    result = await client.execute(nested_pages("$n", "($n: Int)"), {"n": 100.0})

    assert assert_refused_before_execution(result, "too expensive") == literal


async def test_a_page_size_sent_as_a_float_literal_is_refused_by_validation(
    client: GraphQLClient,
) -> None:
    result = await client.execute(nested_pages("100.0"))

    assert_refused_before_execution(result, "Int cannot represent non-integer value")


async def test_a_page_size_variable_that_does_not_coerce_is_reported_by_execution(
    client: GraphQLClient,
) -> None:
    result = await client.execute(nested_pages("$n", "($n: Int)"), {"n": 100.5})

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["n"]


async def test_a_page_whose_arguments_fail_coercion_costs_one_field(
    client: GraphQLClient,
) -> None:
    # Valid to validation, but `field: $f` with $f null fails argument coercion when the
    # field executes: the field is refused before its selection runs, so the selection
    # (1 + 100 x (1 + 1 + (1 + 100)) = 10301 otherwise) is not counted.
    query = """query Pages($f: UserOrderField = EMAIL) {
      users(first: 100, orderBy: {field: $f}) {
        edges { node { auditLogs(first: 100) { totalCount } } } } }"""

    result = await client.execute(query, {"f": None})

    assert "too expensive" not in result.http.text
    assert result.error_codes == ["BAD_USER_INPUT"]
