"""Emailed tokens are single-use even under a race: of two requests presenting the same
token at the same moment, exactly one succeeds."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.accounts import audit_rows
from tests.support.email_flows import (
    ME_VERIFIED,
    request_reset_token,
    reset_password,
    verify_email,
    welcome_token,
)
from tests.support.graphql import LOGIN, GraphQLClient, Response
from tests.support.smtp import MailCapture, SmtpServer

# One worker and one SMTP server for the module (see conftest).
pytestmark = pytest.mark.usefixtures("serving_worker")


@pytest.fixture
def smtp(shared_smtp: SmtpServer) -> SmtpServer:
    return shared_smtp


def winners_and_losers(results: list[Response]) -> tuple[list[Response], list[Response]]:
    return [r for r in results if not r.errors], [r for r in results if r.errors]


async def test_two_concurrent_verifications_with_one_token_let_exactly_one_succeed(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await welcome_token(mailbox, engine, account.email)

    results = await asyncio.gather(verify_email(client, token), verify_email(client, token))

    winners, losers = winners_and_losers(list(results))
    assert len(winners) == 1
    assert winners[0].data["verifyEmail"]["emailVerified"] is True
    assert [r.error_codes for r in losers] == [["BAD_USER_INPUT"]]
    assert len(await audit_rows(engine, "EMAIL_VERIFIED")) == 1
    me = await client.execute(ME_VERIFIED, token=account.access_token)
    assert me.ok()["me"]["emailVerified"] is True


async def test_two_concurrent_resets_with_one_token_let_exactly_one_succeed(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await request_reset_token(client, mailbox, engine, account.email)
    passwords = ["first racing passphrase", "second racing passphrase"]

    results = await asyncio.gather(*(reset_password(client, token, p) for p in passwords))

    winners, losers = winners_and_losers(list(results))
    assert [r.data for r in winners] == [{"resetPassword": True}]
    assert [r.error_codes for r in losers] == [["BAD_USER_INPUT"]]
    assert len(await audit_rows(engine, "PASSWORD_RESET")) == 1
    # The winner's password is the one that now signs in; the loser's does not.
    logins = [
        await client.execute(LOGIN, {"input": {"email": account.email, "password": p}})
        for p in passwords
    ]
    winner_password = passwords[list(results).index(winners[0])]
    assert [not r.errors for r in logins] == [p == winner_password for p in passwords]
