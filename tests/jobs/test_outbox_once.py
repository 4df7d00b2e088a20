"""Each outbox job runs once in effect: a rolled-back transaction leaves no row, so nothing
is sent; a job that fails is retried until its row is done.

The one documented gap (api/infra/mailer.py): a job that fails after the SMTP server accepted
its message, but before its row is marked done, sends the message again when retried.
These tests open that window on purpose with an SMTP server that accepts the message
and then answers the end of the session with an error: the copies are the same message
(one Message-ID, so a mail system can drop the duplicate, and one working link)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.accounts import tasks
from tests.support.email_flows import VERIFY_PATH, WELCOME_SUBJECT, verify_email
from tests.support.graphql import REGISTER, GraphQLClient
from tests.support.smtp import MailCapture, SmtpServer
from tests.support.worker import outbox_rows, wait_until_outbox_done

# One worker and one SMTP server for the module (see conftest).
pytestmark = pytest.mark.usefixtures("serving_worker")


@pytest.fixture
def smtp(shared_smtp: SmtpServer) -> SmtpServer:
    return shared_smtp


def recipients(mailbox: MailCapture) -> Counter[str]:
    return Counter(r for mail in mailbox.mails for r in mail.recipients)


async def test_a_registration_that_rolls_back_enqueues_nothing_and_sends_nothing(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    await client.register("ada@example.com")

    duplicate = await client.execute(
        REGISTER, {"input": {"email": "ADA@example.com", "password": "another fine password"}}
    )

    assert duplicate.error_codes == ["CONFLICT"]
    assert len(await outbox_rows(engine)) == 1
    await wait_until_outbox_done(engine, 1)
    assert recipients(mailbox) == Counter(["ada@example.com"])


async def test_concurrent_registrations_of_one_email_enqueue_one_welcome_email(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    variables = {"input": {"email": "race@example.com", "password": "a racing password"}}

    results = await asyncio.gather(*(client.execute(REGISTER, variables) for _ in range(3)))

    assert sorted(code for r in results for code in r.error_codes) == ["CONFLICT"] * 2
    await wait_until_outbox_done(engine, 1)
    assert recipients(mailbox) == Counter(["race@example.com"])


async def test_an_email_accepted_before_its_job_failed_is_sent_again_and_its_row_ends_done(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    mailbox.fail_next_quit()

    await client.register("ada@example.com")

    mails = await mailbox.wait_for(2, to="ada@example.com")
    [row] = await wait_until_outbox_done(engine, 1)
    assert [mail.subject for mail in mails] == [WELCOME_SUBJECT] * 2
    assert len(mailbox.to("ada@example.com")) == 2  # and no more once the row is done
    assert row.kind == tasks.WELCOME
    assert row.last_error is None  # the retry succeeded: no stale error on a done row


async def test_an_email_sent_again_by_a_retried_job_keeps_its_message_id(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    mailbox.fail_next_quit()

    await client.register("ada@example.com")

    first, second = await mailbox.wait_for(2, to="ada@example.com")
    [row] = await wait_until_outbox_done(engine, 1)
    assert str(row.id) in first.message_id
    assert first.message_id == second.message_id


async def test_the_link_in_every_copy_of_an_email_sent_again_works(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    mailbox.fail_next_quit()

    await client.register("ada@example.com")

    first, second = await mailbox.wait_for(2, to="ada@example.com")
    await wait_until_outbox_done(engine, 1)
    # A mail system that drops the second copy as a duplicate leaves the user the first.
    assert not (await verify_email(client, first.token(VERIFY_PATH))).errors
    assert first.token(VERIFY_PATH) == second.token(VERIFY_PATH)
