"""Driving the system's Chromium with Playwright (no browser download), collecting what a
page reports to its console, and saving screenshots of the pages a test visits."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import BrowserContext, ConsoleMessage, Error, Page

from api.settings import PROJECT_ROOT

# Debian's package (`apt-get install chromium`; ops/scripts/ensure-test-tools does it).
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")

# Headless, and nothing that calls home: without the background-networking flags
# Chromium's own connections (updates, sync, field trials) are refused on a closed
# network, which shows up as noise or delays.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

SCREENSHOTS = PROJECT_ROOT / "test-output" / "e2e"


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found is not None:
            return found
    return None


@dataclass
class ConsoleProblems:
    """Console errors and uncaught exceptions of every page of a browser context."""

    entries: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self._on_console)
        context.on("weberror", lambda web_error: self._on_page_error(web_error.error))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            url = location.get("url") if location else None
            where = f" ({url}:{location['lineNumber']})" if url else ""
            self.entries.append(f"console.error: {message.text}{where}")

    def _on_page_error(self, error: Error) -> None:
        self.entries.append(f"uncaught {error.name}: {error.message}")


@dataclass
class Screenshots:
    """test-output/e2e/<test>-<step>.png, full page; `take` returns the path."""

    test_name: str
    directory: Path = SCREENSHOTS

    def path(self, step: str) -> Path:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{self.test_name}-{step}")
        return self.directory / f"{name}.png"

    async def take(self, page: Page, step: str) -> Path:
        path = self.path(step)
        path.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(path), full_page=True)
        return path
