"""GraphiQL in development: the page and every file it loads come from this app, so it
works without internet access, under a policy that lets it load nothing from elsewhere;
where GraphiQL is off, neither the page nor its files exist."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from websockets.asyncio.client import ClientConnection, connect

from api.app import create_app
from api.http.graphql.graphiql import GRAPHIQL_DIR
from tests.conftest import make_settings
from tests.support.graphql import GraphQLClient
from tests.support.live_server import live_server

HTML = "text/html"
ASSETS = "/graphiql/assets"
TAG = re.compile(r"<(script|link)\b([^>]*)>", re.IGNORECASE)
ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"', re.IGNORECASE)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
INLINE_BLOCK = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
MEDIA_TYPES = {"script": "text/javascript", "link": "text/css"}


@pytest.fixture(scope="module")
async def graphiql_http(database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, redis_url, graphiql=True))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            yield http


async def get_page(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/graphql", headers={"accept": "text/html,*/*;q=0.8"})


def referenced_files(html: str) -> list[dict[str, str]]:
    """The attributes of every <script src> and <link href> of the page."""
    tags = []
    for name, attributes in TAG.findall(html):
        values = {key.lower(): value for key, value in ATTRIBUTE.findall(attributes)}
        url = values.get("src") or values.get("href")
        if url is not None:
            tags.append({"tag": name.lower(), "url": url, **values})
    return tags


def sri(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


def csp_directives(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for directive in policy.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


async def test_a_browser_gets_the_graphiql_page(graphiql_http: httpx.AsyncClient) -> None:
    page = await get_page(graphiql_http)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith(HTML)
    assert "accept" in page.headers["vary"].lower()
    assert 'id="graphiql"' in page.text
    # Strawberry's wiring: the fetcher, subscriptions over this URL's WebSocket, the
    # header editor and the explorer plugin.
    assert "GraphiQL.createFetcher" in page.text
    assert "subscriptionUrl" in page.text
    assert "isHeadersEditorEnabled: true" in page.text
    assert "GraphiQLPluginExplorer.explorerPlugin()" in page.text


async def test_the_page_references_no_other_origin(graphiql_http: httpx.AsyncClient) -> None:
    page = await get_page(graphiql_http)

    assert re.search(r"(https?|wss?):/", page.text, re.IGNORECASE) is None
    # Nor a protocol-relative one: every file it loads is one of ours.
    urls = [tag["url"] for tag in referenced_files(page.text)]
    assert urls, "the page loads no file"
    assert all(url.startswith(f"{ASSETS}/") or url == "data:," for url in urls), urls


async def test_every_file_the_page_loads_is_served(graphiql_http: httpx.AsyncClient) -> None:
    page = await get_page(graphiql_http)
    assets = [tag for tag in referenced_files(page.text) if tag["url"].startswith(ASSETS)]

    for asset in assets:
        reply = await graphiql_http.get(asset["url"])
        assert reply.status_code == 200, asset["url"]
        media_type = reply.headers["content-type"].split(";")[0]
        assert media_type == MEDIA_TYPES[asset["tag"]], asset["url"]
        # The vendored file is the one upstream published (the page pins each by hash).
        assert sri(reply.content) == asset["integrity"], asset["url"]
    # Nothing else is vendored than what the page loads.
    scripts_and_styles = {p.name for p in GRAPHIQL_DIR.iterdir() if p.suffix in (".js", ".css")}
    assert {asset["url"].removeprefix(f"{ASSETS}/") for asset in assets} == scripts_and_styles


async def test_the_assets_are_revalidated(graphiql_http: httpx.AsyncClient) -> None:
    url = f"{ASSETS}/graphiql.min.css"
    first = await graphiql_http.get(url)
    again = await graphiql_http.get(url, headers={"if-none-match": first.headers["etag"]})

    # A stale copy would fail its integrity check after an update.
    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304


@pytest.mark.parametrize(
    "name",
    ["index.html", "README.md", "LICENSE.react", "", "missing.js", "%2e%2e/app.py"],
)
async def test_nothing_but_the_page_assets_is_served(
    graphiql_http: httpx.AsyncClient, name: str
) -> None:
    # The template is only served by the view, under its policy.
    reply = await graphiql_http.get(f"{ASSETS}/{name}")

    assert reply.status_code == 404


async def test_the_policy_allows_only_this_origin_and_the_page_itself(
    graphiql_http: httpx.AsyncClient,
) -> None:
    page = await get_page(graphiql_http)
    policy = csp_directives(page.headers["content-security-policy"])

    inline: dict[str, set[str]] = {"script": set(), "style": set()}
    for tag, body in INLINE_BLOCK.findall(HTML_COMMENT.sub("", page.text)):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        inline[tag].add(f"'sha256-{digest}'")
    assert len(inline["script"]) == len(inline["style"]) == 1
    assert policy["default-src"] == ["'none'"]
    assert set(policy["script-src"]) == {"'self'", *inline["script"]}
    assert set(policy["style-src"]) == {"'self'", *inline["style"]}
    assert set(policy["connect-src"]) == {"'self'", "ws:", "wss:"}
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


async def test_a_get_with_a_query_is_still_a_graphql_request(
    graphiql_http: httpx.AsyncClient,
) -> None:
    reply = await graphiql_http.get(
        "/graphql",
        params={"query": "{ __typename }"},
        # A GET operation still needs its CSRF preflight header; the page does not.
        headers={"accept": "text/html, */*", "apollo-require-preflight": "true"},
    )

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_under_a_root_path_the_assets_are_found_there(
    database_url: str, redis_url: str
) -> None:
    app = create_app(make_settings(database_url, redis_url, graphiql=True))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, root_path="/shop")
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
            page = await http.get("/shop/graphql", headers={"accept": HTML})
            urls = [tag["url"] for tag in referenced_files(page.text) if tag["tag"] == "script"]
            served = [(await http.get(url)).status_code for url in urls]

    assert urls
    assert all(url.startswith(f"/shop{ASSETS}/") for url in urls), urls
    assert served == [200] * len(urls)


async def test_without_graphiql_there_is_no_page_and_no_assets(client: GraphQLClient) -> None:
    # The client fixture's app runs with APP_ENV=test, where GraphiQL is off.
    page = await get_page(client.http)
    preflighted = await client.http.get(
        "/graphql", headers={"accept": "text/html,*/*;q=0.8", "apollo-require-preflight": "1"}
    )
    asset = await client.http.get(f"{ASSETS}/graphiql.min.js")

    # The GET is a GraphQL request: a browser's, without a CSRF preflight header, is
    # refused as such; with one, it is a request without a query.
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("application/json")
    assert "Cross-Site Request Forgery" in page.json()["errors"][0]["message"]
    assert preflighted.status_code == 400
    assert preflighted.json()["errors"][0]["message"] == "The request has no GraphQL query."
    assert asset.status_code == 404


# A real browser, on a live server


CHROMIUM = "/usr/bin/chromium"
BROWSER_TIMEOUT_SECONDS = 15.0
# GraphiQL's own markup, inside the page's #graphiql placeholder (which already has
# the class graphiql-container before any script runs).
RENDERED = (
    "!!document.querySelector('#graphiql .graphiql-container .graphiql-sessions')"
    " && !!document.querySelector('.graphiql-query-editor .CodeMirror')"
)
EXECUTE = "document.querySelector('.graphiql-execute-button').click()"
ANSWERED = (
    "(document.querySelector('.graphiql-response') || {}).innerText"
    '?.includes(\'"__typename": "Query"\') ?? false'
)


class DevTools:
    """Just enough of the Chrome DevTools protocol: commands, and the events seen."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.events: list[dict[str, Any]] = []
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.next_id = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                self.replies.pop(message["id"]).set_result(message)
            else:
                self.events.append(message)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        reply = asyncio.get_running_loop().create_future()
        self.replies[self.next_id] = reply
        await self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        message = await asyncio.wait_for(reply, BROWSER_TIMEOUT_SECONDS)
        assert "error" not in message, message
        result: dict[str, Any] = message["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and refused loads (CSP violations)."""
        found = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
            elif event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append(details.get("exception", {}).get("description", details["text"]))
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] == "error":
                found.append(json.dumps(params["args"]))
        return found


@contextlib.asynccontextmanager
async def headless_chromium() -> AsyncIterator[DevTools]:
    with tempfile.TemporaryDirectory(prefix="graphiql-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",  # the port it took is printed on stderr
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        output: list[str] = []
        announced: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        # Read stderr to the end, so that chromium never blocks on a full pipe.
        reader = asyncio.create_task(_read_stderr(process, output, announced))
        try:
            try:
                browser_url = await asyncio.wait_for(announced, BROWSER_TIMEOUT_SECONDS)
            except (TimeoutError, EOFError) as error:
                raise AssertionError("chromium did not start:\n" + "\n".join(output)) from error
            port = browser_url.removeprefix("ws://").split("/")[0].rsplit(":", 1)[1]
            async with httpx.AsyncClient() as http:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
            page = next(target for target in targets if target["type"] == "page")
            async with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
                devtools = DevTools(socket)
                try:
                    yield devtools
                finally:
                    devtools.reader.cancel()
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), BROWSER_TIMEOUT_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()
            await reader


async def _read_stderr(
    process: asyncio.subprocess.Process, output: list[str], announced: asyncio.Future[str]
) -> None:
    assert process.stderr is not None
    async for line in process.stderr:
        text = line.decode(errors="replace").rstrip()
        output.append(text)
        if text.startswith("DevTools listening on ") and not announced.done():
            announced.set_result(text.removeprefix("DevTools listening on "))
    if not announced.done():
        announced.set_exception(EOFError())


async def wait_until(devtools: DevTools, expression: str) -> bool:
    deadline = asyncio.get_running_loop().time() + BROWSER_TIMEOUT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if await devtools.evaluate(expression):
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.skipif(
    shutil.which(CHROMIUM) is None,
    reason=f"no {CHROMIUM}: install Debian's chromium package to run the browser check",
)
async def test_graphiql_renders_and_queries_in_a_real_browser(
    database_url: str, redis_url: str
) -> None:
    settings = make_settings(database_url, redis_url, graphiql=True)
    with live_server(settings, "uvicorn-graphiql") as base_url:
        async with headless_chromium() as devtools:
            for domain in ("Page", "Runtime", "Log", "Network"):
                await devtools.send(f"{domain}.enable")
            # The page's own ?q= parameter fills the query editor.
            await devtools.send("Page.navigate", url=f"{base_url}/graphql?q=%7B__typename%7D")
            rendered = await wait_until(devtools, RENDERED)
            html = await devtools.evaluate("document.documentElement.outerHTML")
            await devtools.evaluate(EXECUTE)
            answered = await wait_until(devtools, ANSWERED)
            problems = devtools.problems()
            requested = [
                event["params"]["request"]["url"]
                for event in devtools.events
                if event["method"] == "Network.requestWillBeSent"
            ]

    assert rendered, html
    assert answered, "GraphiQL's fetcher got no answer to { __typename }"
    # No script, style or font refused by the policy, no error in the console.
    assert problems == []
    # graphiql.min.css's fonts are data: URLs; everything else came from this server.
    fetched = [url for url in requested if not url.startswith("data:")]
    assert all(url.startswith(f"{base_url}/") for url in fetched), fetched
