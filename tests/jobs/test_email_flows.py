"""Email verification and password reset, end to end: the API writes an outbox row, the real
worker mails a link through a real SMTP server, and the token read from that email is
used against the API."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from schema.accounts import tasks
from tests.support.accounts import audit_rows, can_refresh, is_signed_in
from tests.support.email_flows import (
    ME_VERIFIED,
    REQUEST_EMAIL_VERIFICATION,
    REQUEST_PASSWORD_RESET,
    RESET_PATH,
    RESET_SUBJECT,
    VERIFICATION_SUBJECT,
    VERIFY_PATH,
    WELCOME_SUBJECT,
    request_reset_token,
    reset_password,
    verify_email,
    welcome_token,
)
from tests.support.graphql import LOGIN, GraphQLClient
from tests.support.smtp import MailCapture, SmtpServer
from tests.support.worker import (
    PUBLIC_URL,
    outbox_rows,
    wait_until_outbox_done,
    wait_until_outbox_settled,
)

NEW_PASSWORD = "a brand new passphrase"

# One worker and one SMTP server for the module (see conftest).
pytestmark = pytest.mark.usefixtures("serving_worker")


@pytest.fixture
def smtp(shared_smtp: SmtpServer) -> SmtpServer:
    return shared_smtp


async def login_codes(client: GraphQLClient, email: str, password: str) -> list[str]:
    result = await client.execute(LOGIN, {"input": {"email": email, "password": password}})
    return result.error_codes


async def expire_tokens(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE email_tokens SET expires_at = now() - interval '1 second'")
        )


# --- welcome and verification ---


async def test_register_sends_a_welcome_email_with_a_verification_link(
    client: GraphQLClient, mailbox: MailCapture
) -> None:
    await client.register("ada@example.com", firstName="Ada")

    mail = await mailbox.wait_for_one("ada@example.com")

    assert mail.subject == WELCOME_SUBJECT
    assert mail.to == "ada@example.com"
    assert mail.mail_from == "no-reply@glassshop.test"
    assert "Welcome to GlassShop!" in mail.text
    assert mail.link(VERIFY_PATH).startswith(f"{PUBLIC_URL}{VERIFY_PATH}?token=")
    assert len(mail.token(VERIFY_PATH)) >= 32


@pytest.mark.parametrize(
    ("field", "chosen"), [("firstName", "URGENT call +1 555"), ("username", "URGENT.call.1555")]
)
async def test_the_welcome_email_does_not_quote_what_the_registrant_typed(
    client: GraphQLClient, mailbox: MailCapture, field: str, chosen: str
) -> None:
    # Anyone can register someone else's address: their words must not reach its owner.
    await client.register("victim@example.com", **{field: chosen})

    mail = await mailbox.wait_for_one("victim@example.com", subject=WELCOME_SUBJECT)

    assert "URGENT" not in mail.text and chosen not in mail.text


async def test_the_emailed_link_verifies_the_email(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await welcome_token(mailbox, engine, account.email)

    result = await verify_email(client, token)

    assert result.ok()["verifyEmail"] == {
        "id": account.id,
        "email": "ada@example.com",
        "emailVerified": True,
    }


async def test_me_shows_the_email_verified_once_the_link_is_used(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await welcome_token(mailbox, engine, account.email)
    before = await client.execute(ME_VERIFIED, token=account.access_token)

    await verify_email(client, token)

    after = await client.execute(ME_VERIFIED, token=account.access_token)
    assert before.ok()["me"]["emailVerified"] is False
    assert after.ok()["me"]["emailVerified"] is True


async def test_verifying_writes_an_email_verified_audit_row(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")

    await verify_email(client, await welcome_token(mailbox, engine, account.email))

    rows = await audit_rows(engine, "EMAIL_VERIFIED")
    assert len(rows) == 1
    assert str(rows[0]["user_id"]) == account.id
    assert rows[0]["changes"] == {"emailVerified": {"from": False, "to": True}}


async def test_a_verification_token_works_only_once(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await welcome_token(mailbox, engine, account.email)
    (await verify_email(client, token)).ok()

    again = await verify_email(client, token)

    assert again.error_codes == ["BAD_USER_INPUT"]
    assert "token" in again.errors[0]["extensions"]["fields"]
    assert len(await audit_rows(engine, "EMAIL_VERIFIED")) == 1


async def test_an_expired_verification_token_is_refused(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await welcome_token(mailbox, engine, account.email)
    await expire_tokens(engine)

    result = await verify_email(client, token)

    assert result.error_codes == ["BAD_USER_INPUT"]
    me = await client.execute(ME_VERIFIED, token=account.access_token)
    assert me.ok()["me"]["emailVerified"] is False


async def test_a_made_up_verification_token_is_refused(client: GraphQLClient) -> None:
    result = await verify_email(client, "not-a-token-we-issued")

    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_request_email_verification_sends_a_fresh_link_that_works(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    welcome = await welcome_token(mailbox, engine, account.email)

    asked = await client.execute(REQUEST_EMAIL_VERIFICATION, token=account.access_token)

    assert asked.ok() == {"requestEmailVerification": True}
    mail = await mailbox.wait_for_one(account.email, subject=VERIFICATION_SUBJECT)
    await wait_until_outbox_settled(engine)
    fresh = mail.token(VERIFY_PATH)
    assert fresh != welcome
    assert (await verify_email(client, fresh)).ok()["verifyEmail"]["emailVerified"] is True


async def test_request_email_verification_needs_a_signed_in_user(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    result = await client.execute(REQUEST_EMAIL_VERIFICATION)

    assert result.error_codes == ["UNAUTHENTICATED"]
    assert await outbox_rows(engine, tasks.VERIFICATION) == []


async def test_request_email_verification_of_a_verified_email_sends_nothing(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    (await verify_email(client, await welcome_token(mailbox, engine, account.email))).ok()

    asked = await client.execute(REQUEST_EMAIL_VERIFICATION, token=account.access_token)

    assert asked.ok() == {"requestEmailVerification": True}
    assert await outbox_rows(engine, tasks.VERIFICATION) == []


async def test_a_verification_token_cannot_reset_the_password(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await welcome_token(mailbox, engine, account.email)

    result = await reset_password(client, token, NEW_PASSWORD)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert await login_codes(client, account.email, account.password) == []


# --- password reset ---


async def test_request_password_reset_answers_true_for_an_existing_and_an_unknown_email(
    client: GraphQLClient,
) -> None:
    await client.register("ada@example.com")

    known = await client.execute(REQUEST_PASSWORD_RESET, {"email": "ada@example.com"})
    unknown = await client.execute(REQUEST_PASSWORD_RESET, {"email": "nobody@example.com"})

    assert known.ok() == unknown.ok() == {"requestPasswordReset": True}


async def test_request_password_reset_writes_one_outbox_row_whatever_the_email(
    client: GraphQLClient, engine: AsyncEngine
) -> None:
    await client.register("ada@example.com")

    await client.execute(REQUEST_PASSWORD_RESET, {"email": "Ada@Example.com"})
    after_known = await outbox_rows(engine, tasks.PASSWORD_RESET)
    await client.execute(REQUEST_PASSWORD_RESET, {"email": "nobody@example.com"})
    after_unknown = await outbox_rows(engine, tasks.PASSWORD_RESET)

    assert len(after_known) == 1
    assert len(after_unknown) == 2
    assert [row.payload for row in after_unknown] == [
        {"email": "ada@example.com"},
        {"email": "nobody@example.com"},
    ]


async def test_no_email_is_sent_for_an_unknown_email(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    await client.execute(REQUEST_PASSWORD_RESET, {"email": "nobody@example.com"})

    await wait_until_outbox_done(engine, 1)

    assert mailbox.mails == []


async def test_the_reset_email_carries_a_reset_link(
    client: GraphQLClient, mailbox: MailCapture
) -> None:
    await client.register("ada@example.com")

    await client.execute(REQUEST_PASSWORD_RESET, {"email": "ada@example.com"})

    mail = await mailbox.wait_for_one("ada@example.com", subject=RESET_SUBJECT)
    assert mail.link(RESET_PATH).startswith(f"{PUBLIC_URL}{RESET_PATH}?token=")


async def test_a_reset_asked_for_with_the_nfd_spelling_reaches_the_nfc_account(
    client: GraphQLClient, mailbox: MailCapture
) -> None:
    await client.register("am\u00e9lie@example.com")  # é as one code point (NFC)

    await client.execute(REQUEST_PASSWORD_RESET, {"email": "ame\u0301lie@example.com"})  # e + ◌́

    mail = await mailbox.wait_for_one("am\u00e9lie@example.com", subject=RESET_SUBJECT)
    assert mail.link(RESET_PATH).startswith(f"{PUBLIC_URL}{RESET_PATH}?token=")


async def test_reset_with_a_weak_password_is_refused_and_keeps_the_token(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await request_reset_token(client, mailbox, engine, account.email)

    weak = await reset_password(client, token, "short")
    good = await reset_password(client, token, NEW_PASSWORD)

    assert weak.error_codes == ["BAD_USER_INPUT"]
    assert "newPassword" in weak.errors[0]["extensions"]["fields"]
    assert good.ok() == {"resetPassword": True}


async def test_reset_password_replaces_the_password(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await request_reset_token(client, mailbox, engine, account.email)

    (await reset_password(client, token, NEW_PASSWORD)).ok()

    assert await login_codes(client, account.email, account.password) == ["UNAUTHENTICATED"]
    assert await login_codes(client, account.email, NEW_PASSWORD) == []


async def test_reset_password_signs_out_every_session(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    first = await client.register("ada@example.com")
    second = await client.login("ada@example.com")
    token = await request_reset_token(client, mailbox, engine, first.email)

    (await reset_password(client, token, NEW_PASSWORD)).ok()

    for device in (first, second):
        assert not await can_refresh(client, device.refresh_token)
        assert not await is_signed_in(client, device.access_token)


async def test_reset_password_writes_a_password_reset_audit_row(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    await client.login("ada@example.com")
    token = await request_reset_token(client, mailbox, engine, account.email)

    (await reset_password(client, token, NEW_PASSWORD)).ok()

    rows = await audit_rows(engine, "PASSWORD_RESET")
    assert len(rows) == 1
    assert str(rows[0]["user_id"]) == account.id
    assert rows[0]["changes"] == {"revokedSessions": 2}


async def test_a_reset_token_works_only_once(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await request_reset_token(client, mailbox, engine, account.email)
    (await reset_password(client, token, NEW_PASSWORD)).ok()

    again = await reset_password(client, token, "yet another passphrase")

    assert again.error_codes == ["BAD_USER_INPUT"]
    assert await login_codes(client, account.email, NEW_PASSWORD) == []


async def test_an_expired_reset_token_is_refused(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine
) -> None:
    account = await client.register("ada@example.com")
    token = await request_reset_token(client, mailbox, engine, account.email)
    await expire_tokens(engine)

    result = await reset_password(client, token, NEW_PASSWORD)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert await login_codes(client, account.email, account.password) == []
