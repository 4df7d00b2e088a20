"""users: the staff-only user list, a keyset-paginated connection with filters and orderings."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.graphql import Account, GraphQLClient
from tests.support.staff import (
    AUDIT_LOGS,
    T0,
    USERS,
    Connection,
    audit_page,
    backward_ids,
    forward_ids,
    insert_user,
    register_staff,
    users_page,
    walk_backward,
    walk_forward,
)

ORDER_FIELDS = ("EMAIL", "USERNAME", "DATE_JOINED", "LAST_LOGIN")
ORDERINGS = [(field, direction) for field in ORDER_FIELDS for direction in ("ASC", "DESC")]
NO_LOGIN = datetime.min.replace(tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# Emails and usernames differ in their first letter (in another order each, and in
# mixed case), so that the expected order is the same under any collation. Joined
# dates and last logins repeat, and some users never signed in, so that ties are
# broken by the id.
POPULATION = [
    # email, username, joined (days after T0), last login (days after T0 or None)
    ("Alice@Example.com", "kim", 3, None),
    ("bob@example.com", "Ivy", 1, 10),
    ("carol@example.com", "Grace", 1, None),
    ("dave@example.com", "eve", 2, 10),
    ("ERIN@example.com", "Carl", 5, 3),
    ("frank@example.com", "adam", 5, None),
    ("gina@example.com", "Jude", 5, 7),
    ("hank@example.com", "bea", 0, 10),
    ("iris@example.com", "Dora", 4, None),
    ("jack@example.com", "Finn", 6, 1),
    ("kate@example.com", "hugo", 2, 3),
]


@dataclass(frozen=True)
class World:
    staff: Account
    user_ids: list[str]  # the POPULATION's ids, in its order


async def populate(client: GraphQLClient, engine: AsyncEngine, redis: Redis) -> World:
    staff = await register_staff(client, engine, redis, "staff@example.com")
    ids = [
        await insert_user(
            engine,
            email,
            username=username,
            joined=day(joined),
            last_login=day(login) if login is not None else None,
        )
        for email, username, joined, login in POPULATION
    ]
    return World(staff, ids)


def sort_key(field: str) -> Callable[[dict[str, Any]], tuple[Any, uuid.UUID]]:
    def key(node: dict[str, Any]) -> tuple[Any, uuid.UUID]:
        tie = uuid.UUID(node["id"])
        if field == "EMAIL":
            return (node["email"].lower(), tie)
        if field == "USERNAME":
            return (node["username"].lower(), tie)
        if field == "DATE_JOINED":
            return (parse_time(node["dateJoined"]), tie)
        # Never signed in sorts as the earliest possible time.
        return (parse_time(node["lastLogin"]) or NO_LOGIN, tie)

    return key


async def expected_order(
    client: GraphQLClient, token: str, field: str, direction: str
) -> list[str]:
    """Every user's id, sorted here from the users' own fields (not by the API)."""
    everyone = await users_page(client, token, first=100)
    assert not everyone.has_next
    ordered = sorted(everyone.nodes, key=sort_key(field), reverse=direction == "DESC")
    return [node["id"] for node in ordered]


def order(field: str, direction: str) -> dict[str, str]:
    return {"field": field, "direction": direction}


def tamper(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# --- permissions ---------------------------------------------------------------------------


async def test_a_non_staff_user_listing_users_is_forbidden(client: GraphQLClient) -> None:
    ada = await client.register("ada@example.com")

    result = await client.execute(USERS, {"first": 10}, token=ada.access_token)

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data is None
    assert "ada@example.com" not in result.http.text


async def test_anonymous_listing_users_is_unauthenticated(client: GraphQLClient) -> None:
    await client.register("ada@example.com")

    result = await client.execute(USERS, {"first": 10})

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert result.data is None


async def test_staff_lists_every_user(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)

    page = await users_page(client, world.staff.access_token, first=100)

    assert sorted(page.ids) == sorted([world.staff.id, *world.user_ids])
    assert page.total == len(POPULATION) + 1


# --- orderings, forwards and backwards ------------------------------------------------------


@pytest.mark.parametrize(("field", "direction"), ORDERINGS)
async def test_first_after_walks_every_user_once_in_order(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, field: str, direction: str
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    expected = await expected_order(client, token, field, direction)

    pages = await walk_forward(client, USERS, "users", token, 5, orderBy=order(field, direction))

    assert [len(p.ids) for p in pages] == [5, 5, 2]
    assert forward_ids(pages) == expected
    assert all(p.total == len(expected) for p in pages)


@pytest.mark.parametrize(("field", "direction"), ORDERINGS)
async def test_last_before_walks_every_user_once_backwards(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, field: str, direction: str
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    expected = await expected_order(client, token, field, direction)

    pages = await walk_backward(client, USERS, "users", token, 5, orderBy=order(field, direction))

    assert [len(p.ids) for p in pages] == [5, 5, 2]
    assert backward_ids(pages) == expected


@pytest.mark.parametrize("size", [1, 4, 12, 13])
async def test_any_page_size_walks_every_user_once(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, size: int
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    expected = await expected_order(client, token, "DATE_JOINED", "ASC")

    forwards = await walk_forward(
        client, USERS, "users", token, size, orderBy=order("DATE_JOINED", "ASC")
    )
    backwards = await walk_backward(
        client, USERS, "users", token, size, orderBy=order("DATE_JOINED", "ASC")
    )

    assert forward_ids(forwards) == expected
    assert backward_ids(backwards) == expected


async def test_users_who_never_signed_in_sort_first_by_last_login_ascending(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)

    page = await users_page(
        client, world.staff.access_token, first=100, orderBy=order("LAST_LOGIN", "ASC")
    )

    logins = [node["lastLogin"] for node in page.nodes]
    never = sum(1 for _, _, _, login in POPULATION if login is None) + 1  # and the staff
    assert logins[:never] == [None] * never
    assert None not in logins[never:]


async def test_the_direction_defaults_to_ascending(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token

    page = await users_page(client, token, first=100, orderBy={"field": "USERNAME"})

    assert page.ids == await expected_order(client, token, "USERNAME", "ASC")


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_a_page_ending_on_a_user_who_never_signed_in_goes_on_to_the_next_users(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, direction: str
) -> None:
    staff = await register_staff(client, engine, redis)  # never signed in either
    never = [await insert_user(engine, f"never{n}@example.com") for n in range(2)]
    once = await insert_user(engine, "once@example.com", last_login=day(1))
    token = staff.access_token
    ordering = order("LAST_LOGIN", direction)
    # Nulls sort first ascending and last descending: end the page on the first of them.
    first = await users_page(client, token, first=1 if direction == "ASC" else 2, orderBy=ordering)
    assert first.nodes[-1]["lastLogin"] is None

    second = await users_page(client, token, first=100, after=first.end_cursor, orderBy=ordering)

    assert sorted(first.ids + second.ids) == sorted([staff.id, *never, once])


# --- pageInfo ---------------------------------------------------------------------------------


async def test_the_first_page_has_a_next_page_and_no_previous_page(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)

    page = await users_page(client, world.staff.access_token, first=3)

    assert (page.has_next, page.has_previous) == (True, False)
    assert (page.start_cursor, page.end_cursor) == (page.cursors[0], page.cursors[-1])


async def test_a_page_ending_exactly_at_the_last_user_has_no_next_page(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    first = await users_page(client, token, first=6)

    second = await users_page(client, token, first=6, after=first.end_cursor)

    assert len(second.ids) == 6
    assert (second.has_next, second.has_previous) == (False, True)


async def test_the_last_page_from_the_end_has_a_previous_page_and_no_next_page(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    expected = await expected_order(client, token, "EMAIL", "ASC")

    page = await users_page(client, token, last=3, orderBy=order("EMAIL", "ASC"))

    assert page.ids == expected[-3:]
    assert (page.has_next, page.has_previous) == (False, True)
    assert (page.start_cursor, page.end_cursor) == (page.cursors[0], page.cursors[-1])


async def test_before_a_cursor_returns_the_users_just_before_it(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    whole = await users_page(client, token, first=100, orderBy=order("EMAIL", "DESC"))

    page = await users_page(
        client, token, last=2, before=whole.cursors[5], orderBy=order("EMAIL", "DESC")
    )

    assert page.ids == whole.ids[3:5]
    assert page.has_next is True


async def test_an_empty_result_has_no_cursors_and_no_pages_either_way(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)

    page = await users_page(
        client, world.staff.access_token, first=10, filter={"search": "nobody-matches-this"}
    )

    assert page == Connection([], [], [], False, False, None, None, 0)


async def test_first_zero_returns_no_users_but_counts_them(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)

    page = await users_page(client, world.staff.access_token, first=0)

    assert page.ids == []
    assert page.total == len(POPULATION) + 1
    assert page.has_next is True


async def test_total_count_is_the_whole_filtered_list_not_the_page(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)
    await insert_user(engine, "off1@example.com", is_active=False, deleted_at=T0)
    await insert_user(engine, "off2@example.com", is_active=False, deleted_at=T0)
    token = world.staff.access_token

    active = await users_page(client, token, first=2, filter={"isActive": True})
    inactive = await users_page(client, token, first=1, filter={"isActive": False})
    everyone = await users_page(client, token, first=1)

    assert (active.total, inactive.total, everyone.total) == (12, 2, 14)
    assert (len(active.ids), len(inactive.ids)) == (2, 1)


# --- stable under inserts -------------------------------------------------------------------


@pytest.mark.parametrize(("field", "direction"), [("DATE_JOINED", "ASC"), ("EMAIL", "DESC")])
async def test_a_user_inserted_between_pages_neither_repeats_nor_skips_old_rows(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, field: str, direction: str
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    old = await expected_order(client, token, field, direction)
    ordering = order(field, direction)
    first = await users_page(client, token, first=5, orderBy=ordering)
    assert first.ids == old[:5]

    # One new user sorts inside the page already read, one after it.
    if field == "DATE_JOINED":
        behind = await insert_user(engine, "behind@example.com", joined=day(-1))
        ahead = await insert_user(engine, "zz-ahead@example.com", joined=day(100_000))
    else:
        behind = await insert_user(engine, "zzz-behind@example.com", username="zzz-behind")
        ahead = await insert_user(engine, "aaa-ahead@example.com", username="aaa-ahead")
    rest: list[str] = []
    after = first.end_cursor
    while True:
        page = await users_page(client, token, first=5, after=after, orderBy=ordering)
        rest += page.ids
        after = page.end_cursor
        if not page.has_next:
            break

    assert first.ids + [i for i in rest if i != ahead] == old
    assert behind not in rest
    assert rest.count(ahead) == 1


# --- page size limits and argument rules -------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 101}, "first"),
        ({"last": 101}, "last"),
        ({"first": -1}, "first"),
        ({"last": -1}, "last"),
        ({"first": 2, "last": 2}, "last"),
    ],
)
async def test_page_size_rules_are_bad_user_input(
    client: GraphQLClient,
    engine: AsyncEngine,
    redis: Redis,
    variables: dict[str, int],
    field: str,
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(USERS, variables, token=staff.access_token)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert field in result.errors[0]["extensions"]["fields"]
    assert result.data is None


@pytest.mark.parametrize("argument", ["first", "last"])
async def test_a_page_of_100_is_allowed(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, argument: str
) -> None:
    staff = await register_staff(client, engine, redis)
    for n in range(104):
        await insert_user(engine, f"user{n:03d}@example.com", joined=day(n))

    page = await users_page(client, staff.access_token, **{argument: 100})

    assert len(page.ids) == 100
    assert page.total == 105
    assert (page.has_next if argument == "first" else page.has_previous) is True


# --- cursors ---------------------------------------------------------------------------------


MALFORMED_CURSORS = [
    "not a cursor",
    "",
    "!!!!",
    base64.urlsafe_b64encode(b"not json").decode(),
    base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
    tamper({"name": "users-date_joined-asc"}),
    tamper(["users-date_joined-asc"]),
    tamper(["users-date_joined-asc", "2024-01-01T00:00:00+00:00"]),
    tamper(["users-date_joined-asc", "yesterday", str(uuid.uuid4())]),
    tamper(["users-date_joined-asc", "2024-01-01T00:00:00", str(uuid.uuid4())]),  # naive
    tamper(["users-date_joined-asc", "2024-01-01T00:00:00+00:00", "not-a-uuid"]),
    tamper(["users-date_joined-asc", 5, str(uuid.uuid4())]),
    tamper(["users-date_joined-asc", "2024-01-01T00:00:00+00:00", str(uuid.uuid4()), "x"]),
    tamper(["users-password_hash-asc", "x", str(uuid.uuid4())]),
]


@pytest.mark.parametrize("argument", ["after", "before"])
@pytest.mark.parametrize("cursor", MALFORMED_CURSORS)
async def test_a_malformed_cursor_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, argument: str, cursor: str
) -> None:
    staff = await register_staff(client, engine, redis)
    size = "first" if argument == "after" else "last"

    result = await client.execute(USERS, {size: 5, argument: cursor}, token=staff.access_token)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert argument in result.errors[0]["extensions"]["fields"]


@pytest.mark.parametrize(
    ("read_in", "used_in"),
    [
        (("EMAIL", "ASC"), ("USERNAME", "ASC")),
        (("EMAIL", "ASC"), ("EMAIL", "DESC")),
        (("DATE_JOINED", "ASC"), ("LAST_LOGIN", "ASC")),
        (("LAST_LOGIN", "DESC"), ("DATE_JOINED", "DESC")),
    ],
)
async def test_a_cursor_from_another_ordering_is_bad_user_input(
    client: GraphQLClient,
    engine: AsyncEngine,
    redis: Redis,
    read_in: tuple[str, str],
    used_in: tuple[str, str],
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    page = await users_page(client, token, first=3, orderBy=order(*read_in))

    result = await client.execute(
        USERS, {"first": 3, "after": page.end_cursor, "orderBy": order(*used_in)}, token=token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "after" in result.errors[0]["extensions"]["fields"]


@pytest.mark.parametrize("field", ["EMAIL", "USERNAME"])
async def test_a_cursor_on_a_name_that_lowercases_differently_skips_nobody(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, field: str
) -> None:
    staff = await register_staff(client, engine, redis, "zed@example.com")
    dotted = await insert_user(engine, "\u0130a@example.com", username="\u0130a")
    plain = await insert_user(engine, "ib@example.com", username="ib")
    token = staff.access_token
    first = await users_page(client, token, first=1, orderBy=order(field, "ASC"))
    assert first.ids == [dotted]

    rest = await users_page(
        client, token, first=100, after=first.end_cursor, orderBy=order(field, "ASC")
    )

    assert rest.ids == [plain, staff.id]


async def test_an_audit_log_cursor_is_bad_user_input_for_users(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    audit = await audit_page(client, token, first=1)
    assert audit.end_cursor is not None

    result = await client.execute(USERS, {"first": 3, "after": audit.end_cursor}, token=token)

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_a_users_cursor_is_bad_user_input_for_audit_logs(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    world = await populate(client, engine, redis)
    token = world.staff.access_token
    page = await users_page(client, token, first=1)

    result = await client.execute(AUDIT_LOGS, {"first": 3, "after": page.end_cursor}, token=token)

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_a_cursor_with_a_nul_character_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    cursor = tamper(["users-email-asc", "a\u0000b", str(uuid.uuid4())])

    result = await client.execute(
        USERS,
        {"first": 5, "after": cursor, "orderBy": order("EMAIL", "ASC")},
        token=staff.access_token,
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


# --- filters ---------------------------------------------------------------------------------


async def search_ids(client: GraphQLClient, token: str, term: str) -> set[str]:
    page = await users_page(client, token, first=100, filter={"search": term})
    assert page.total == len(page.ids)
    return set(page.ids)


async def test_search_matches_a_substring_of_the_email_in_any_case(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    carol = await insert_user(engine, "carol.jones@example.com", username="cj")
    await insert_user(engine, "dave@example.com", username="dave")

    assert await search_ids(client, staff.access_token, "OL.JO") == {carol}


async def test_search_matches_a_substring_of_the_username(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    carol = await insert_user(engine, "c@example.com", username="NightOwl")
    await insert_user(engine, "d@example.com", username="early_bird")

    assert await search_ids(client, staff.access_token, "htow") == {carol}


async def test_search_matches_a_substring_of_the_first_name(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await insert_user(engine, "a@example.com", username="u1", first_name="Augusta")
    await insert_user(engine, "b@example.com", username="u2", first_name="Grace")

    assert await search_ids(client, staff.access_token, "gUSt") == {ada}


async def test_search_matches_a_substring_of_the_last_name(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    ada = await insert_user(engine, "a@example.com", username="u1", last_name="Lovelace")
    await insert_user(engine, "b@example.com", username="u2", last_name="Hopper")

    assert await search_ids(client, staff.access_token, "VELA") == {ada}


async def test_search_treats_percent_as_a_literal_character(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    percent = await insert_user(engine, "p@example.com", username="u1", first_name="100% Ada")
    await insert_user(engine, "q@example.com", username="u2", first_name="100 Ada")
    token = staff.access_token

    assert await search_ids(client, token, "%") == {percent}
    assert await search_ids(client, token, "100%") == {percent}
    assert await search_ids(client, token, "1%a") == set()


async def test_search_treats_underscore_as_a_literal_character(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    snake = await insert_user(engine, "s@example.com", username="snake_case")
    await insert_user(engine, "k@example.com", username="snakeXcase")
    token = staff.access_token

    assert await search_ids(client, token, "_") == {snake}
    assert await search_ids(client, token, "e_c") == {snake}


async def test_search_treats_backslash_as_a_literal_character(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    slash = await insert_user(engine, "s@example.com", username="u1", last_name="back\\slash")
    await insert_user(engine, "t@example.com", username="u2", last_name="backslash")
    token = staff.access_token

    assert await search_ids(client, token, "\\") == {slash}
    assert await search_ids(client, token, "k\\s") == {slash}


async def test_search_longer_than_100_characters_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        USERS, {"first": 5, "filter": {"search": "x" * 101}}, token=staff.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "search" in result.errors[0]["extensions"]["fields"]


async def test_search_with_a_nul_character_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        USERS, {"first": 5, "filter": {"search": "a\u0000b"}}, token=staff.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_is_active_filters_active_and_deactivated_users(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    active = await insert_user(engine, "on@example.com")
    inactive = await insert_user(engine, "off@example.com", is_active=False, deleted_at=T0)
    token = staff.access_token

    on = await users_page(client, token, first=100, filter={"isActive": True})
    off = await users_page(client, token, first=100, filter={"isActive": False})

    assert set(on.ids) == {staff.id, active}
    assert set(off.ids) == {inactive}


async def test_is_active_filter_agrees_with_the_is_active_field(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    # Soft-deleted by another tool that only set deleted_at.
    await insert_user(engine, "half@example.com", is_active=True, deleted_at=T0)
    token = staff.access_token

    for wanted in (True, False):
        page = await users_page(client, token, first=100, filter={"isActive": wanted})

        assert {node["isActive"] for node in page.nodes} <= {wanted}, wanted


async def test_is_staff_filters_staff_and_other_users(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    other_staff = await insert_user(engine, "boss@example.com", is_staff=True)
    user = await insert_user(engine, "user@example.com")
    token = staff.access_token

    yes = await users_page(client, token, first=100, filter={"isStaff": True})
    no = await users_page(client, token, first=100, filter={"isStaff": False})

    assert set(yes.ids) == {staff.id, other_staff}
    assert set(no.ids) == {user}
    assert all(node["isStaff"] for node in yes.nodes)


async def test_joined_after_and_joined_before_bound_the_join_date(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    day1 = await insert_user(engine, "d1@example.com", joined=day(1))
    day2 = await insert_user(engine, "d2@example.com", joined=day(2))
    day3 = await insert_user(engine, "d3@example.com", joined=day(3))
    token = staff.access_token

    async def joined(**bounds: datetime) -> set[str]:
        filter_ = {name: value.isoformat() for name, value in bounds.items()}
        page = await users_page(client, token, first=100, filter=filter_)
        assert page.total == len(page.ids)
        return set(page.ids)

    assert await joined(joinedAfter=day(1.5)) == {day2, day3, staff.id}
    assert await joined(joinedBefore=day(2.5)) == {day1, day2}
    assert await joined(joinedAfter=day(1.5), joinedBefore=day(2.5)) == {day2}
    assert await joined(joinedAfter=day(2), joinedBefore=day(2)) == {day2}


async def test_filters_combine_and_paginate(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    wanted = [
        await insert_user(engine, f"match{n}@example.com", joined=day(n), last_login=day(9))
        for n in range(7)
    ]
    await insert_user(engine, "match-off@example.com", is_active=False, deleted_at=T0)
    await insert_user(engine, "other@example.com")
    filter_ = {"search": "MATCH", "isActive": True}

    pages = await walk_forward(
        client,
        USERS,
        "users",
        staff.access_token,
        3,
        filter=filter_,
        orderBy=order("DATE_JOINED", "DESC"),
    )

    assert forward_ids(pages) == wanted[::-1]
    assert {p.total for p in pages} == {7}


async def test_an_inverted_join_date_range_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        USERS,
        {
            "first": 5,
            "filter": {"joinedAfter": day(2).isoformat(), "joinedBefore": day(1).isoformat()},
        },
        token=staff.access_token,
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "joinedAfter" in result.errors[0]["extensions"]["fields"]


async def test_a_join_date_without_an_offset_is_never_an_internal_error(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        USERS,
        {
            "first": 5,
            "filter": {"joinedAfter": "2024-01-01T00:00:00", "joinedBefore": day(1).isoformat()},
        },
        token=staff.access_token,
    )

    assert "INTERNAL_SERVER_ERROR" not in result.error_codes
    assert result.error_codes in ([], ["BAD_USER_INPUT"])


# --- orderBy validation ----------------------------------------------------------------------


async def test_an_unknown_order_field_in_the_document_is_graphql_validation_failed(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        "{ users(orderBy: {field: PASSWORD_HASH}) { totalCount } }", token=staff.access_token
    )

    assert result.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert result.status in (200, 400)


@pytest.mark.parametrize(
    "order_by",
    [
        {"field": "PASSWORD_HASH"},
        {"field": "email"},
        {"field": "EMAIL", "direction": "SIDEWAYS"},
        {"field": None},
        {"direction": "ASC"},
    ],
)
async def test_an_unknown_order_in_a_variable_is_bad_user_input(
    client: GraphQLClient, engine: AsyncEngine, redis: Redis, order_by: dict[str, Any]
) -> None:
    staff = await register_staff(client, engine, redis)

    result = await client.execute(
        USERS, {"first": 5, "orderBy": order_by}, token=staff.access_token
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "orderBy" in result.errors[0]["extensions"]["fields"]
    assert result.status in (200, 400)
