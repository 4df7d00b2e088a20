"""Keyboard use, announced errors and small screens, in the browser."""

from __future__ import annotations

from playwright.async_api import Locator, Page, ViewportSize, expect
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.pages import App, ProfilePage, SignInPage
from tests.support.browser import Screenshots
from tests.support.graphql import DEFAULT_PASSWORD, GraphQLClient
from tests.support.staff import register_staff

EMAIL = "grace@example.com"
PHONE: ViewportSize = {"width": 375, "height": 740}


async def focus_outline(locator: Locator) -> str:
    """The outline the focused element is drawn with ("none" when focus is invisible)."""
    outline: str = await locator.evaluate("element => getComputedStyle(element).outlineStyle")
    return outline


async def test_the_sign_in_form_works_with_the_keyboard_alone_and_announces_its_errors(
    page: Page, api: GraphQLClient, shots: Screenshots
) -> None:
    await api.register(EMAIL)
    sign_in = SignInPage(page)
    await sign_in.open()

    # The first Tab reaches the skip link; Enter on it moves on to the page's content.
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_visible()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    await expect(sign_in.email).to_be_focused()
    assert await focus_outline(sign_in.email) != "none"

    # Enter on the empty form: both fields are marked invalid, their messages are part of
    # their descriptions, an alert says so, and focus goes to the first invalid field.
    await page.keyboard.press("Enter")
    await expect(sign_in.alert).to_have_text("Please correct the fields marked below.")
    for field in (sign_in.email, sign_in.password):
        await expect(field).to_have_attribute("aria-invalid", "true")
        await expect(field).to_have_accessible_description("This field is required.")
    await expect(sign_in.email).to_be_focused()
    await shots.take(page, "01-required-fields")

    # A wrong password: the alert says so and takes focus; the password is cleared.
    await page.keyboard.type(EMAIL)
    await page.keyboard.press("Tab")
    await expect(sign_in.password).to_be_focused()
    await page.keyboard.type("not the password")
    await page.keyboard.press("Enter")
    await expect(sign_in.alert).to_have_text("Invalid email or password.")
    await expect(sign_in.alert).to_be_focused()
    await expect(sign_in.password).to_have_value("")
    for field in (sign_in.email, sign_in.password):
        await expect(field).not_to_have_attribute("aria-invalid", "true")
    await shots.take(page, "02-wrong-password")

    # From the alert, Tab to the fields and sign in; focus lands on the new page's heading.
    await page.keyboard.press("Tab")
    await expect(sign_in.email).to_be_focused()
    await expect(sign_in.email).to_have_value(EMAIL)
    await page.keyboard.press("Tab")
    await page.keyboard.type(DEFAULT_PASSWORD)
    await page.keyboard.press("Enter")
    await ProfilePage(page).expect_loaded()
    await expect(App(page).heading("Your profile")).to_be_focused()
    await App(page).expect_signed_in_as(EMAIL)
    await shots.take(page, "03-signed-in")


async def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the document is wider than the viewport (0: no sideways scroll)."""
    overflow: int = await page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    return overflow


async def test_every_page_fits_a_phone_screen_without_horizontal_scrolling(
    page: Page, api: GraphQLClient, engine: AsyncEngine, redis: Redis, shots: Screenshots
) -> None:
    staff = await register_staff(api, engine, redis, email="a.very.long.address@example.com")
    await page.set_viewport_size(PHONE)
    app = App(page)
    wider: dict[str, int] = {}

    async def check(step: str, heading: str) -> None:
        await app.expect_heading(heading)
        await expect(page.get_by_role("status").filter(has_text="Loading")).to_have_count(0)
        await shots.take(page, step)
        if (overflow := await horizontal_overflow(page)) > 0:
            wider[step] = overflow

    for step, path, heading in (
        ("01-sign-in", "/sign-in", "Sign in"),
        ("02-sign-up", "/sign-up", "Create your account"),
        ("03-forgot-password", "/forgot-password", "Forgot your password?"),
        ("04-reset-password-link-incomplete", "/reset-password", "Choose a new password"),
        ("05-not-found", "/no/such/page", "Page not found"),
    ):
        await page.goto(path)
        await check(step, heading)

    await SignInPage(page).open()
    await SignInPage(page).sign_in(staff.email, DEFAULT_PASSWORD)
    await check("06-profile", "Your profile")
    await page.get_by_role("button", name="Edit profile").click()
    await check("07-profile-edit", "Your profile")
    for step, path, heading in (
        ("08-password", "/account/password", "Change your password"),
        ("09-sessions", "/account/sessions", "Where you're signed in"),
        ("10-users", "/staff/users", "Users"),
        ("11-audit-log", "/staff/audit", "Audit log"),
    ):
        await page.goto(path)
        await check(step, heading)

    assert wider == {}, f"pages wider than {PHONE['width']}px (overflow in px): {wider}"
