"""The email-flow operations (verification, password reset) and the steps around them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.graphql import GraphQLClient, Response
from tests.support.smtp import MailCapture
from tests.support.worker import wait_until_outbox_settled

VERIFY_EMAIL = """
mutation Verify($token: String!) { verifyEmail(token: $token) { id email emailVerified } }"""

REQUEST_EMAIL_VERIFICATION = "mutation { requestEmailVerification }"

REQUEST_PASSWORD_RESET = "mutation Forgot($email: String!) { requestPasswordReset(email: $email) }"

RESET_PASSWORD = """
mutation Reset($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password)
}"""

ME_VERIFIED = "query { me { id emailVerified } }"

WELCOME_SUBJECT = "Welcome to GlassShop"
VERIFICATION_SUBJECT = "Confirm your email address"
RESET_SUBJECT = "Reset your GlassShop password"

VERIFY_PATH = "/verify-email"
RESET_PATH = "/reset-password"


async def verify_email(client: GraphQLClient, token: str) -> Response:
    return await client.execute(VERIFY_EMAIL, {"token": token})


async def reset_password(client: GraphQLClient, token: str, password: str) -> Response:
    return await client.execute(RESET_PASSWORD, {"token": token, "password": password})


async def welcome_token(mailbox: MailCapture, engine: AsyncEngine, email: str) -> str:
    """The verification token of the welcome email the worker sends after register, once
    the job that issued it has committed."""
    mail = await mailbox.wait_for_one(email, subject=WELCOME_SUBJECT)
    await wait_until_outbox_settled(engine)
    return mail.token(VERIFY_PATH)


async def request_reset_token(
    client: GraphQLClient, mailbox: MailCapture, engine: AsyncEngine, email: str
) -> str:
    """Ask for a password reset and read the token from the email the worker sends, once
    the job that issued it has committed."""
    before = len(mailbox.to(email, subject=RESET_SUBJECT))
    assert (await client.execute(REQUEST_PASSWORD_RESET, {"email": email})).ok() == {
        "requestPasswordReset": True
    }
    mails = await mailbox.wait_for(before + 1, to=email, subject=RESET_SUBJECT)
    await wait_until_outbox_settled(engine)
    return mails[-1].token(RESET_PATH)
