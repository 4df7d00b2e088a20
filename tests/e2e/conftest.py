"""End-to-end fixtures: the built web client and the API on one origin (a real uvicorn on
a free port, real PostgreSQL and Redis), the real worker sending real email to a
capturing SMTP server, and Debian's Chromium driven by Playwright.

Every test gets a fresh browser context (its own cookies) whose console errors and
uncaught page errors fail the test; screenshots go to test-output/e2e/."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    async_playwright,
    expect,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import Settings
from tests.conftest import make_settings
from tests.support.browser import (
    CHROMIUM_ARGS,
    ConsoleProblems,
    Screenshots,
    find_chromium,
)
from tests.support.client_build import NODE_MISSING, ensure_built, node_installed
from tests.support.graphql import GraphQLClient
from tests.support.live_server import live_server
from tests.support.smtp import MailCapture, SmtpServer, smtp_server
from tests.support.worker import (
    outbox_rows,
    running_worker,
    wait_until_outbox_done,
    worker_settings,
)

# Long enough for a slow shared machine, short enough that a broken page fails quickly.
TIMEOUT_MS = 10_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}

CONSOLE_PROBLEMS = pytest.StashKey[ConsoleProblems]()

expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Site:
    """The web client and its API on one origin, and the mailbox its emails reach."""

    url: str
    settings: Settings
    mailbox: MailCapture

    def api(self) -> httpx.AsyncClient:
        """An HTTP client for the API behind the pages (setting up data, not for the flows)."""
        return httpx.AsyncClient(base_url=self.url, timeout=30)


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "Chromium is not installed (`ops/scripts/ensure-test-tools` installs Debian's"
            " chromium): the browser tests are not run"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=list(CHROMIUM_ARGS)
        )
        yield launched
        await launched.close()


@pytest.fixture(scope="package")
def client_dist() -> Path:
    if not node_installed():
        pytest.skip(f"{NODE_MISSING}: the web client cannot be built for the browser tests")
    return ensure_built()


@pytest.fixture(scope="package")
def e2e_smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="package")
async def running_site(
    client_dist: Path, database_url: str, redis_url: str, e2e_smtp: SmtpServer
) -> AsyncIterator[Site]:
    settings = make_settings(database_url, redis_url, client_dist_dir=str(client_dist))
    with live_server(settings, name="uvicorn-e2e") as url:
        # The worker writes the emailed links (PUBLIC_URL: this server) and must share the
        # API's secret, from which the emailed tokens derive.
        jobs_settings = worker_settings(
            database_url, redis_url, e2e_smtp, public_url=url, jwt_secret=settings.jwt_secret
        )
        async with running_worker(jobs_settings, database_url):
            yield Site(url, settings, e2e_smtp.capture)


@pytest.fixture
async def site(running_site: Site, engine: AsyncEngine) -> AsyncIterator[Site]:
    """The running site with an empty mailbox; at teardown, waits until every job of the
    test is done, so that none runs (or mails) during the next one."""
    running_site.mailbox.clear()
    yield running_site
    await wait_until_outbox_done(engine, len(await outbox_rows(engine)))


@pytest.fixture
async def api(site: Site) -> AsyncIterator[GraphQLClient]:
    async with site.api() as http:
        yield GraphQLClient(http)


@pytest.fixture
async def context(
    request: pytest.FixtureRequest, browser: Browser, site: Site
) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile on the site; its console errors fail the test."""
    created = await browser.new_context(
        base_url=site.url,
        viewport=VIEWPORT,
        locale="en-GB",
        timezone_id="UTC",
        color_scheme="light",
    )
    created.set_default_timeout(TIMEOUT_MS)
    problems = ConsoleProblems()
    problems.watch(created)
    request.node.stash[CONSOLE_PROBLEMS] = problems
    yield created
    await created.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(request.node.name)


def _reported(item: pytest.Item) -> str:
    problems = item.stash.get(CONSOLE_PROBLEMS, None)
    return "\n".join(problems.entries) if problems is not None else ""


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """A test whose pages logged a console error or threw fails, saying what they said."""
    try:
        result = yield
    except BaseException:
        if reported := _reported(pyfuncitem):
            pyfuncitem.add_report_section("call", "browser console", reported)
        raise
    if reported := _reported(pyfuncitem):
        raise AssertionError(f"the pages reported errors:\n{reported}")
    return result
