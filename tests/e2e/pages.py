"""Page objects for the web client: what a user sees and does on each page, found by
role and label as assistive technology finds it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect


@dataclass(frozen=True)
class App:
    """The frame around every page: header navigation, sign-out, the page's heading."""

    page: Page

    @property
    def nav(self) -> Locator:
        return self.page.get_by_role("navigation", name="Main")

    def heading(self, name: str) -> Locator:
        return self.page.get_by_role("heading", level=1, name=name)

    async def expect_heading(self, name: str) -> None:
        await expect(self.heading(name)).to_be_visible()
        await expect(self.page).to_have_title(f"{name} · GlassShop")

    async def expect_signed_in_as(self, email: str) -> None:
        await expect(self.page.get_by_text("Signed in as")).to_have_text(f"Signed in as {email}")
        await expect(self.nav.get_by_role("button", name="Sign out")).to_be_visible()

    async def expect_signed_out(self) -> None:
        await expect(self.nav.get_by_role("link", name="Sign in")).to_be_visible()
        await expect(self.nav.get_by_role("button", name="Sign out")).to_have_count(0)
        await expect(self.page.get_by_text("Signed in as")).to_have_count(0)

    async def sign_out(self) -> None:
        await self.nav.get_by_role("button", name="Sign out").click()
        await expect(self.page).to_have_url(re.compile(r"/sign-in$"))
        await expect(self.page.get_by_role("status")).to_have_text("You have signed out.")

    async def open(self, link: str) -> None:
        await self.nav.get_by_role("link", name=link).click()


@dataclass(frozen=True)
class SignInPage:
    page: Page

    @property
    def email(self) -> Locator:
        return self.page.get_by_label("Email")

    @property
    def password(self) -> Locator:
        return self.page.get_by_label("Password")

    @property
    def submit(self) -> Locator:
        return self.page.get_by_role("button", name="Sign in", exact=True)

    @property
    def alert(self) -> Locator:
        return self.page.get_by_role("main").get_by_role("alert")

    async def open(self) -> None:
        await self.page.goto("/sign-in")
        await App(self.page).expect_heading("Sign in")

    async def sign_in(self, email: str, password: str) -> None:
        await self.email.fill(email)
        await self.password.fill(password)
        await self.submit.click()


@dataclass(frozen=True)
class SignUpPage:
    page: Page

    async def open(self) -> None:
        await self.page.goto("/sign-up")
        await App(self.page).expect_heading("Create your account")

    async def register(self, email: str, password: str, *, first: str, last: str) -> None:
        await self.page.get_by_label("Email").fill(email)
        # "Password (required)": the label says so too.
        await self.page.get_by_label(re.compile(r"^Password\b")).fill(password)
        await self.page.get_by_label("Repeat the password").fill(password)
        await self.page.get_by_label("First name").fill(first)
        await self.page.get_by_label("Last name").fill(last)
        await self.page.get_by_role("button", name="Create account").click()


@dataclass(frozen=True)
class ProfilePage:
    page: Page

    @property
    def details(self) -> Locator:
        return self.page.get_by_role("region", name="Details")

    def detail(self, term: str) -> Locator:
        """The <dd> after the <dt> named `term` in the details list."""
        return self.details.locator("dt", has_text=re.compile(f"^{term}$")).locator(
            "xpath=following-sibling::dd[1]"
        )

    @property
    def verify_notice(self) -> Locator:
        return self.page.get_by_role("region", name="Please verify your email")

    async def expect_loaded(self) -> None:
        await expect(self.page).to_have_url(re.compile(r"/profile$"))
        await App(self.page).expect_heading("Your profile")
        await expect(self.details).to_be_visible()

    async def edit(self, **fields: str) -> None:
        """Opens the form, fills the fields named by their labels, saves."""
        await self.page.get_by_role("button", name="Edit profile").click()
        form = self.page.get_by_role("region", name="Edit your details")
        await expect(form).to_be_visible()
        for label, value in fields.items():
            await form.get_by_label(label).fill(value)
        await form.get_by_role("button", name="Save changes").click()


@dataclass(frozen=True)
class UsersPage:
    page: Page

    @property
    def table(self) -> Locator:
        return self.page.get_by_role("table", name=re.compile("^Users, sorted by"))

    @property
    def rows(self) -> Locator:
        return self.table.locator("tbody tr")

    @property
    def count(self) -> Locator:
        return self.page.locator(".result-count")

    @property
    def pager(self) -> Locator:
        return self.page.get_by_role("navigation", name="Pages of users")

    async def search(self, text: str) -> None:
        await self.page.get_by_role("searchbox", name="Search").fill(text)

    def row_of(self, email: str) -> Locator:
        return self.rows.filter(has=self.page.get_by_role("cell", name=email, exact=False))


@dataclass(frozen=True)
class AuditLogPage:
    page: Page

    @property
    def table(self) -> Locator:
        return self.page.get_by_role("table", name="Audit log entries, newest first")

    @property
    def rows(self) -> Locator:
        return self.table.locator("tbody tr")

    @property
    def live_status(self) -> Locator:
        return self.page.get_by_role("status").filter(has_text=re.compile("^Live"))
