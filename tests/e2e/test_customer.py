"""A customer in the browser: signing up, the emailed links, the profile, staying signed in
across reloads (the refresh cookie) and signing out."""

from __future__ import annotations

import re

from playwright.async_api import BrowserContext, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import Site
from tests.e2e.pages import App, ProfilePage, SignInPage, SignUpPage
from tests.support.accounts import REFRESH_COOKIE
from tests.support.browser import Screenshots
from tests.support.email_flows import RESET_PATH, RESET_SUBJECT, VERIFY_PATH, WELCOME_SUBJECT
from tests.support.graphql import DEFAULT_PASSWORD, GraphQLClient
from tests.support.worker import wait_until_outbox_settled

EMAIL = "ada@example.com"
PASSWORD = "a long and happy passphrase"


async def refresh_cookie(context: BrowserContext) -> dict[str, object] | None:
    found = [dict(c) for c in await context.cookies() if c["name"] == REFRESH_COOKIE]
    assert len(found) <= 1, found
    return found[0] if found else None


async def test_a_customer_signs_up_verifies_edits_the_profile_and_stays_signed_in_on_reload(
    page: Page, context: BrowserContext, site: Site, engine: AsyncEngine, shots: Screenshots
) -> None:
    app = App(page)
    profile = ProfilePage(page)

    # Sign up: the app signs the new customer in and asks them to verify the address.
    await SignUpPage(page).open()
    await shots.take(page, "01-sign-up")
    await SignUpPage(page).register(EMAIL, PASSWORD, first="Ada", last="Lovelace")
    await profile.expect_loaded()
    await app.expect_signed_in_as(EMAIL)
    await expect(profile.verify_notice).to_be_visible()
    await shots.take(page, "02-profile-unverified")

    # The refresh token is an httpOnly, SameSite=Strict cookie for /graphql only; Secure
    # outside development, which Chromium accepts on http://127.0.0.1 (a secure context).
    cookie = await refresh_cookie(context)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/graphql"

    # The welcome email's link, opened in the browser, verifies the address.
    mail = await site.mailbox.wait_for_one(EMAIL, subject=WELCOME_SUBJECT)
    await wait_until_outbox_settled(engine)
    link = mail.link(VERIFY_PATH)
    assert link.startswith(f"{site.url}{VERIFY_PATH}?token=")
    await page.goto(link)
    await app.expect_heading("Email verified")
    await expect(page.get_by_role("status")).to_have_text(f"Thank you: {EMAIL} is verified.")
    await expect(page).to_have_url(f"{site.url}{VERIFY_PATH}")  # the token left the address bar
    await shots.take(page, "03-email-verified")
    await page.get_by_role("link", name="Go to your profile").click()
    await profile.expect_loaded()
    await expect(profile.detail("Email")).to_have_text(f"{EMAIL} verified")
    await expect(profile.verify_notice).to_have_count(0)

    # Sign out, then back in.
    await app.sign_out()
    await app.expect_signed_out()
    assert await refresh_cookie(context) is None
    await shots.take(page, "04-signed-out")
    await SignInPage(page).sign_in(EMAIL, PASSWORD)
    await profile.expect_loaded()
    await app.expect_signed_in_as(EMAIL)

    # Edit the profile: the page shows the saved values.
    await profile.edit(**{"First name": "Augusta Ada", "Phone": "+44 20 7946 0000"})
    await expect(page.get_by_role("status").filter(has_text="saved")).to_have_text(
        "Your changes are saved."
    )
    await expect(profile.detail("Name")).to_have_text("Augusta Ada Lovelace")
    await expect(profile.detail("Phone")).to_have_text("+44 20 7946 0000")
    await shots.take(page, "05-profile-saved")

    # A reload forgets the access token; the refresh cookie signs the tab in again, and
    # the profile comes from the API, not from the page's memory.
    await page.reload()
    await profile.expect_loaded()
    await app.expect_signed_in_as(EMAIL)
    await expect(profile.detail("Name")).to_have_text("Augusta Ada Lovelace")
    await expect(profile.detail("Phone")).to_have_text("+44 20 7946 0000")
    await shots.take(page, "06-profile-after-reload")

    # Signed out stays signed out after a reload.
    await app.sign_out()
    await page.reload()
    await app.expect_heading("Sign in")
    await app.expect_signed_out()
    await page.goto("/profile")
    await expect(page).to_have_url(re.compile(r"/sign-in$"))
    await shots.take(page, "07-signed-out-after-reload")


async def test_a_forgotten_password_is_reset_from_the_emailed_link(
    page: Page, site: Site, api: GraphQLClient, engine: AsyncEngine, shots: Screenshots
) -> None:
    await api.register(EMAIL)
    app = App(page)
    sign_in = SignInPage(page)

    await sign_in.open()
    await page.get_by_role("link", name="Forgot your password?").click()
    await app.expect_heading("Forgot your password?")
    await page.get_by_label("Email").fill(EMAIL)
    await shots.take(page, "01-forgot-password")
    await page.get_by_role("button", name="Send reset link").click()
    await app.expect_heading("Check your email")
    await expect(page.get_by_role("status")).to_contain_text(f"If an account exists for {EMAIL}")
    await shots.take(page, "02-check-your-email")

    mail = await site.mailbox.wait_for_one(EMAIL, subject=RESET_SUBJECT)
    await wait_until_outbox_settled(engine)
    await page.goto(mail.link(RESET_PATH))
    await app.expect_heading("Choose a new password")
    await expect(page).to_have_url(f"{site.url}{RESET_PATH}")
    await page.get_by_label(re.compile(r"^New password\b")).fill(PASSWORD)
    await page.get_by_label(re.compile(r"^Repeat the new password\b")).fill(PASSWORD)
    await shots.take(page, "03-choose-new-password")
    await page.get_by_role("button", name="Set new password").click()
    await app.expect_heading("Password changed")
    await shots.take(page, "04-password-changed")

    # The old password no longer works; the new one does.
    await page.get_by_role("link", name="Sign in with your new password").click()
    await app.expect_heading("Sign in")
    await sign_in.sign_in(EMAIL, DEFAULT_PASSWORD)
    await expect(sign_in.alert).to_have_text("Invalid email or password.")
    await shots.take(page, "05-old-password-refused")
    await sign_in.sign_in(EMAIL, PASSWORD)
    await ProfilePage(page).expect_loaded()
    await app.expect_signed_in_as(EMAIL)


async def test_signing_out_in_one_tab_signs_out_the_others_and_signing_in_signs_them_in(
    context: BrowserContext, api: GraphQLClient, shots: Screenshots
) -> None:
    await api.register(EMAIL, PASSWORD)
    first, second = await context.new_page(), await context.new_page()
    await SignInPage(first).open()
    await SignInPage(first).sign_in(EMAIL, PASSWORD)
    await ProfilePage(first).expect_loaded()
    await second.goto("/profile")  # the shared refresh cookie signs this tab in
    await ProfilePage(second).expect_loaded()
    await App(second).expect_signed_in_as(EMAIL)

    await App(first).sign_out()

    # Without a reload: the other tab heard it and left the signed-in page.
    await App(second).expect_signed_out()
    await expect(second).to_have_url(re.compile(r"/sign-in$"))
    await expect(second.get_by_role("status")).to_have_text("You signed out in another tab.")
    await shots.take(second, "01-other-tab-signed-out")

    await SignInPage(first).sign_in(EMAIL, PASSWORD)

    await App(second).expect_signed_in_as(EMAIL)
    await shots.take(second, "02-other-tab-signed-in")
