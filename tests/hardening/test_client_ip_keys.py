"""Per-IP rate limits count an IPv6 client by its /64 network, an IPv4 client by its
address, and an IPv4-mapped IPv6 address as the IPv4 address it maps."""

from __future__ import annotations

import pytest

from api.infra.rate_limit import client_ip_key
from tests.hardening.conftest import StartApp
from tests.support.accounts import device
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN

TYPENAME = {"query": "{ __typename }"}


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:0:0:0:9", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:198.51.100.30", "198.51.100.30"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::1", "::/64"),
        ("testclient", "testclient"),
        ("", "unknown"),
        (None, "unknown"),
    ],
)
def test_the_key_of_a_client_address(host: str | None, key: str) -> None:
    assert client_ip_key(host) == key


async def requests_from(app: object, ip: str, count: int) -> list[int]:
    async with device(app, ip=ip) as client:  # type: ignore[arg-type]
        return [
            (await client.http.post("/graphql", json=TYPENAME)).status_code for _ in range(count)
        ]


async def test_two_addresses_in_one_ipv6_64_share_a_budget(start_app: StartApp) -> None:
    app = await start_app(rate_requests_ip="2/60")

    first = await requests_from(app, "2001:db8:10:20::1", 1)
    second = await requests_from(app, "2001:db8:10:20:abcd::2", 2)

    assert first == [200]
    assert second == [200, 429]


async def test_addresses_in_different_ipv6_64s_have_budgets_of_their_own(
    start_app: StartApp,
) -> None:
    app = await start_app(rate_requests_ip="2/60")

    first = await requests_from(app, "2001:db8:10:20::1", 2)
    neighbour = await requests_from(app, "2001:db8:10:21::1", 2)

    assert first == [200, 200]
    assert neighbour == [200, 200]


async def test_an_ipv4_mapped_address_shares_the_ipv4_addresss_budget(
    start_app: StartApp,
) -> None:
    app = await start_app(rate_requests_ip="2/60")

    mapped = await requests_from(app, "::ffff:198.51.100.30", 1)
    plain = await requests_from(app, "198.51.100.30", 2)

    assert mapped == [200]
    assert plain == [200, 429]


async def test_ipv4_addresses_are_counted_one_by_one(start_app: StartApp) -> None:
    app = await start_app(rate_requests_ip="2/60")

    first = await requests_from(app, "198.51.100.40", 2)
    next_door = await requests_from(app, "198.51.100.41", 2)

    assert first == [200, 200]
    assert next_door == [200, 200]


async def test_the_login_limit_counts_an_ipv6_64_as_one_client(start_app: StartApp) -> None:
    app = await start_app(rate_login_ip="1/300")
    variables = {"input": {"email": "nobody@example.com", "password": DEFAULT_PASSWORD}}

    async with device(app, ip="2001:db8:30:40::1") as one:
        first = await one.execute(LOGIN, variables)
    async with device(app, ip="2001:db8:30:40::2") as same_network:
        second = await same_network.execute(LOGIN, variables)
    async with device(app, ip="2001:db8:30:41::1") as other_network:
        third = await other_network.execute(LOGIN, variables)

    assert first.error_codes == ["UNAUTHENTICATED"]
    assert second.error_codes == ["RATE_LIMITED"]
    assert third.error_codes == ["UNAUTHENTICATED"]
