"""A password reset link stops working once the password is set another way: by another
reset link, by changePassword, or once the account was deactivated. Links are mailed by
the real worker through a real SMTP server and read from the emails."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.accounts import forget_user
from tests.support.email_flows import request_reset_token, reset_password
from tests.support.graphql import DEFAULT_PASSWORD, LOGIN, GraphQLClient, Response
from tests.support.smtp import MailCapture, SmtpServer
from tests.support.staff import DEACTIVATE, REACTIVATE, register_staff

CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) }"""

FIRST_PASSWORD = "the first new passphrase"
SECOND_PASSWORD = "the second new passphrase"

# One worker and one SMTP server for the module (see conftest).
pytestmark = pytest.mark.usefixtures("serving_worker")


@pytest.fixture
def smtp(shared_smtp: SmtpServer) -> SmtpServer:
    return shared_smtp


def assert_dead_link(result: Response) -> None:
    """Refused as a used, expired or made-up token is: BAD_USER_INPUT on `token`."""
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert list(result.errors[0]["extensions"]["fields"]) == ["token"]


async def signs_in(client: GraphQLClient, email: str, password: str) -> bool:
    result = await client.execute(LOGIN, {"input": {"email": email, "password": password}})
    return not result.errors


async def set_active_by_sql(engine: AsyncEngine, redis: Redis, user_id: str, active: bool) -> None:
    """The account made inactive (or active) without the deactivation service."""
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET is_active = :active WHERE id = :id"),
            {"active": active, "id": uuid.UUID(user_id)},
        )
    await forget_user(redis, user_id)


@pytest.mark.parametrize("used", ["newer", "older"])
async def test_using_one_of_two_reset_links_refuses_the_other(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine, used: str
) -> None:
    account = await client.register("ada@example.com")
    older = await request_reset_token(client, mailbox, engine, account.email)
    newer = await request_reset_token(client, mailbox, engine, account.email)
    first, other = (newer, older) if used == "newer" else (older, newer)
    (await reset_password(client, first, FIRST_PASSWORD)).ok()

    result = await reset_password(client, other, SECOND_PASSWORD)

    assert_dead_link(result)
    assert await signs_in(client, account.email, FIRST_PASSWORD)


async def test_changing_the_password_refuses_an_outstanding_reset_link(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    link = await request_reset_token(client, mailbox, engine, account.email)
    change = {"input": {"currentPassword": DEFAULT_PASSWORD, "newPassword": FIRST_PASSWORD}}
    (await client.execute(CHANGE_PASSWORD, change, token=account.access_token)).ok()

    result = await reset_password(client, link, SECOND_PASSWORD)

    assert_dead_link(result)
    assert await signs_in(client, account.email, FIRST_PASSWORD)


async def test_a_deactivated_users_reset_link_is_refused_and_stays_refused_after_reactivation(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    account = await client.register("ada@example.com")
    link = await request_reset_token(client, mailbox, engine, account.email)
    (await client.execute(DEACTIVATE, {"id": account.id}, token=staff.access_token)).ok()

    while_deactivated = await reset_password(client, link, FIRST_PASSWORD)
    (await client.execute(REACTIVATE, {"id": account.id}, token=staff.access_token)).ok()
    after_reactivation = await reset_password(client, link, FIRST_PASSWORD)

    assert_dead_link(while_deactivated)
    assert_dead_link(after_reactivation)
    assert await signs_in(client, account.email, DEFAULT_PASSWORD)


async def test_a_reset_link_untried_while_deactivated_is_refused_after_reactivation(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine, redis: Redis
) -> None:
    staff = await register_staff(client, engine, redis)
    account = await client.register("ada@example.com")
    link = await request_reset_token(client, mailbox, engine, account.email)
    (await client.execute(DEACTIVATE, {"id": account.id}, token=staff.access_token)).ok()
    (await client.execute(REACTIVATE, {"id": account.id}, token=staff.access_token)).ok()

    result = await reset_password(client, link, FIRST_PASSWORD)

    assert_dead_link(result)
    assert await signs_in(client, account.email, DEFAULT_PASSWORD)


async def test_a_reset_link_tried_while_the_account_is_inactive_is_used_up(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine, redis: Redis
) -> None:
    # Inactive by SQL: a link the deactivation did not see (the worker issued it while
    # the deactivation committed) is still used up by being tried.
    account = await client.register("ada@example.com")
    link = await request_reset_token(client, mailbox, engine, account.email)
    await set_active_by_sql(engine, redis, account.id, False)

    while_inactive = await reset_password(client, link, FIRST_PASSWORD)
    await set_active_by_sql(engine, redis, account.id, True)
    once_active = await reset_password(client, link, FIRST_PASSWORD)

    assert_dead_link(while_inactive)
    assert_dead_link(once_active)
    assert await signs_in(client, account.email, DEFAULT_PASSWORD)


async def test_two_reset_links_used_at_once_let_exactly_one_succeed(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    older = await request_reset_token(client, mailbox, engine, account.email)
    newer = await request_reset_token(client, mailbox, engine, account.email)
    passwords = [FIRST_PASSWORD, SECOND_PASSWORD]

    results = await asyncio.gather(
        reset_password(client, older, FIRST_PASSWORD),
        reset_password(client, newer, SECOND_PASSWORD),
    )

    succeeded = [not result.errors for result in results]
    assert succeeded.count(True) == 1, [result.errors for result in results]
    for loser in (result for result in results if result.errors):
        assert_dead_link(loser)
    # The winner's password signs in; the loser's does not.
    assert [await signs_in(client, account.email, p) for p in passwords] == succeeded
