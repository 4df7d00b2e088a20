"""Staff in the browser: the user list (pages, search, deactivation) and the live audit log."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import BrowserContext, Dialog, Page, expect
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from api.infra.audit_feed import AuditFeed
from tests.e2e.pages import App, AuditLogPage, ProfilePage, SignInPage, UsersPage
from tests.support.browser import Screenshots
from tests.support.graphql import DEFAULT_PASSWORD, GraphQLClient
from tests.support.staff import T0, insert_user, register_staff
from tests.support.worker import wait_until

CUSTOMERS = 30
PAGE_SIZE = 25  # the users page's


def customer(number: int) -> str:
    return f"customer{number:02}@example.com"


async def seed_customers(engine: AsyncEngine) -> None:
    """customer01 … customer30, joined a day apart (customer30 most recently)."""
    for number in range(1, CUSTOMERS + 1):
        await insert_user(
            engine,
            customer(number),
            first_name="Customer",
            last_name=f"No. {number}",
            joined=T0 + timedelta(days=number),
        )


async def audit_feed_has_listeners(redis: Redis) -> bool:
    """Whether a subscription listens to the live audit feed (one Redis pub/sub each)."""
    counts = await redis.pubsub_numsub(AuditFeed(redis).channel)
    return int(counts[0][1]) > 0


async def test_staff_page_through_search_and_deactivate_users_and_see_the_audit_entry_live(
    page: Page,
    context: BrowserContext,
    api: GraphQLClient,
    engine: AsyncEngine,
    redis: Redis,
    shots: Screenshots,
) -> None:
    staff = await register_staff(api, engine, redis)
    await seed_customers(engine)
    app = App(page)
    users = UsersPage(page)

    await SignInPage(page).open()
    await SignInPage(page).sign_in(staff.email, DEFAULT_PASSWORD)
    await ProfilePage(page).expect_loaded()

    # The audit log, open in a second tab, listening for new entries.
    audit_tab = await context.new_page()
    audit = AuditLogPage(audit_tab)
    await audit_tab.goto("/staff/audit")
    await App(audit_tab).expect_heading("Audit log")
    await expect(audit.live_status).to_have_text("Live: new entries appear at the top.")
    await wait_until(lambda: audit_feed_has_listeners(redis), what="the audit log page subscribed")
    await expect(audit.rows.filter(has_text="User deactivated")).to_have_count(0)
    await audit_tab.evaluate("window.loadedOnce = true")  # gone if the page reloads
    await shots.take(audit_tab, "01-audit-log-before")

    # The user list: newest first, 25 a page.
    await app.open("Users")
    await app.expect_heading("Users")
    await expect(users.count).to_have_text(f"{CUSTOMERS + 1} users")
    await expect(users.rows).to_have_count(PAGE_SIZE)
    await expect(users.rows.first).to_contain_text(staff.email)
    await expect(users.rows.nth(1)).to_contain_text(customer(CUSTOMERS))
    previous = users.pager.get_by_role("button", name="Previous page")
    following = users.pager.get_by_role("button", name="Next page")
    await expect(previous).to_be_disabled()
    await shots.take(page, "02-users-first-page")

    await following.click()
    await expect(users.rows).to_have_count(CUSTOMERS + 1 - PAGE_SIZE)
    await expect(users.rows.first).to_contain_text(customer(CUSTOMERS + 1 - PAGE_SIZE))
    await expect(users.rows.last).to_contain_text(customer(1))
    await expect(following).to_be_disabled()
    await expect(previous).to_be_enabled()
    await shots.take(page, "03-users-second-page")

    # Search by email, from the second page: back to the first page of the matches.
    target = customer(7)
    await users.search(target)
    await expect(page).to_have_url(re.compile(r"[?&]q=customer07%40example\.com"))
    await expect(users.count).to_have_text("1 user")
    await expect(users.rows).to_have_count(1)
    row = users.row_of(target)
    await expect(row).to_contain_text("Active")
    await shots.take(page, "04-users-search")

    # Deactivate, confirming the browser's dialog.
    dialogs: list[str] = []

    async def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await row.get_by_role("button", name=f"Deactivate {target}").click()
    await expect(page.get_by_role("status").filter(has_text="Deactivated ")).to_have_text(
        f"Deactivated {target}."
    )
    await expect(row).to_contain_text("Deactivated")
    await expect(row.get_by_role("button", name=f"Reactivate {target}")).to_be_visible()
    assert dialogs == [f"Deactivate {target}? They will be signed out."]
    await shots.take(page, "05-user-deactivated")

    # The other tab shows the entry as it is written, without reloading.
    entry = audit.rows.filter(has_text="User deactivated")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text(target)
    await expect(entry).to_contain_text("new")
    await expect(entry).to_contain_text('"isActive":{"from":true,"to":false}')
    assert await audit_tab.evaluate("window.loadedOnce") is True
    await shots.take(audit_tab, "06-audit-log-live-entry")
