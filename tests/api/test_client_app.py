"""The web client's build served at /, next to the API on the same origin: its files as
they are, index.html for the client's own routes, a real 404 for a missing asset, a
strict policy on the page, and /graphql, /healthz, /readyz and /metrics unaffected.

The build is a small one written by the fixtures (what Vite writes: index.html, hashed
files under assets/, other files from public/), pointed at with CLIENT_DIST_DIR."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.http.spa import IMMUTABLE
from tests.conftest import make_settings

INDEX_HTML = (
    "<!doctype html><html><head><title>GlassShop</title>"
    '<script type="module" crossorigin src="/assets/app-abc123.js"></script>'
    '<link rel="stylesheet" crossorigin href="/assets/app-def456.css"></head>'
    '<body><div id="root"></div></body></html>\n'
)
SCRIPT = "console.log('GlassShop');\n"
STYLE = "body { margin: 0; }\n"
ICON = '<svg xmlns="http://www.w3.org/2000/svg"/>\n'
SECRET = "not-for-the-web: a file next to the build\n"
NAVIGATION = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def write_build(directory: Path, *, index: bool = True) -> Path:
    (directory / "assets").mkdir(parents=True)
    (directory / "assets" / "app-abc123.js").write_text(SCRIPT)
    (directory / "assets" / "app-def456.css").write_text(STYLE)
    (directory / "favicon.svg").write_text(ICON)
    if index:
        (directory / "index.html").write_text(INDEX_HTML)
    return directory


def policy_of(reply: httpx.Response) -> dict[str, list[str]]:
    directives = (part.split() for part in reply.headers["content-security-policy"].split(";"))
    return {words[0]: words[1:] for words in directives if words}


def serve(dist: Path, database_url: str, redis_url: str) -> Starlette:
    return create_app(make_settings(database_url, redis_url, client_dist_dir=dist))


@pytest.fixture(scope="module")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("client")
    write_build(root / "dist")
    (root / "secret.txt").write_text(SECRET)
    return root


@pytest.fixture(scope="module")
async def site_app(build_root: Path, database_url: str, redis_url: str) -> AsyncIterator[Starlette]:
    application = serve(build_root / "dist", database_url, redis_url)
    async with LifespanManager(application):
        yield application


def http_client(app: Starlette, client_ip: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="https://testserver")


@pytest.fixture
async def http(site_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(site_app) as client:
        yield client


# The page and the client's routes


async def test_the_root_is_the_clients_page(http: httpx.AsyncClient) -> None:
    reply = await http.get("/", headers=NAVIGATION)

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert reply.text == INDEX_HTML


@pytest.mark.parametrize("path", ["/profile", "/staff/users", "/account/sessions", "/nowhere/"])
async def test_a_client_route_gets_the_page(http: httpx.AsyncClient, path: str) -> None:
    reply = await http.get(path, headers=NAVIGATION)

    assert reply.status_code == 200
    assert reply.text == INDEX_HTML
    assert reply.headers["cache-control"] == "no-cache"


async def test_a_client_route_without_an_accept_header_gets_the_page(
    http: httpx.AsyncClient,
) -> None:
    request = http.build_request("GET", "/profile")
    del request.headers["accept"]

    reply = await http.send(request)

    assert reply.status_code == 200
    assert reply.text == INDEX_HTML


async def test_a_client_route_asked_for_as_data_is_not_found(http: httpx.AsyncClient) -> None:
    reply = await http.get("/profile", headers={"accept": "application/json"})

    assert reply.status_code == 404
    assert not reply.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "path", ["/assets/missing.js", "/assets/app-abc123.js.map", "/assets/missing", "/favicon-x.png"]
)
async def test_a_missing_asset_is_not_found_not_the_page(
    http: httpx.AsyncClient, path: str
) -> None:
    reply = await http.get(path, headers=NAVIGATION)

    assert reply.status_code == 404
    assert "GlassShop" not in reply.text


async def test_other_methods_on_a_client_route_are_not_allowed(http: httpx.AsyncClient) -> None:
    reply = await http.post("/profile", json={}, headers=NAVIGATION)

    assert reply.status_code == 405
    assert reply.headers["allow"] == "GET, HEAD"


async def test_head_of_the_page_has_its_headers_and_no_body(http: httpx.AsyncClient) -> None:
    reply = await http.head("/staff/users", headers=NAVIGATION)

    assert reply.status_code == 200
    assert reply.content == b""
    assert int(reply.headers["content-length"]) == len(INDEX_HTML.encode())
    assert "content-security-policy" in reply.headers


# Files and caching


async def test_hashed_assets_are_cached_for_a_year(http: httpx.AsyncClient) -> None:
    script = await http.get("/assets/app-abc123.js")
    style = await http.get("/assets/app-def456.css")

    assert (script.status_code, script.text) == (200, SCRIPT)
    assert (style.status_code, style.text) == (200, STYLE)
    assert script.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    assert style.headers["cache-control"] == IMMUTABLE
    assert "javascript" in script.headers["content-type"]
    assert style.headers["content-type"].startswith("text/css")


async def test_files_with_fixed_names_are_revalidated(http: httpx.AsyncClient) -> None:
    icon = await http.get("/favicon.svg")
    page = await http.get("/index.html")

    assert (icon.status_code, icon.text) == (200, ICON)
    assert icon.headers["cache-control"] == "no-cache"
    assert page.text == INDEX_HTML
    assert page.headers["cache-control"] == "no-cache"


async def test_a_revalidated_page_keeps_its_policy(http: httpx.AsyncClient) -> None:
    # A browser stores a 304's headers over the cached page's.
    first = await http.get("/profile", headers=NAVIGATION)
    again = await http.get(
        "/profile", headers={**NAVIGATION, "if-none-match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    assert again.headers["cache-control"] == "no-cache"


# The page's policy


async def test_the_page_may_load_only_from_its_own_origin(http: httpx.AsyncClient) -> None:
    reply = await http.get("/", headers=NAVIGATION)
    policy = policy_of(reply)

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)


async def test_the_page_may_open_a_websocket_to_its_own_host_only(
    http: httpx.AsyncClient,
) -> None:
    reply = await http.get("/", headers=NAVIGATION)

    assert policy_of(reply)["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]


async def test_a_malformed_host_is_not_copied_into_the_policy(http: httpx.AsyncClient) -> None:
    reply = await http.get("/", headers={**NAVIGATION, "host": "evil.example; script-src *"})

    policy = policy_of(reply)
    assert policy["connect-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]


async def test_the_page_carries_the_common_security_headers(http: httpx.AsyncClient) -> None:
    reply = await http.get("/profile", headers=NAVIGATION)

    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["referrer-policy"] == "no-referrer"


# Path traversal


@pytest.mark.parametrize(
    "raw_path",
    [
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ],
)
async def test_files_outside_the_build_are_never_served(site_app: Starlette, raw_path: str) -> None:
    # Sent as they are: httpx would resolve a literal `..` before sending.
    scope_paths: list[str] = []

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope_paths.append(scope["path"])
        await site_app(scope, receive, send)

    transport = httpx.ASGITransport(app=recording)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        reply = await client.get(raw_path, headers=NAVIGATION)

    assert ".." in scope_paths[0], "the request reached the app without its `..`"
    assert reply.status_code == 404
    assert "not-for-the-web" not in reply.text
    assert "root:" not in reply.text


# The API beside it


async def test_graphql_still_answers_graphql(http: httpx.AsyncClient) -> None:
    reply = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"accept": "application/json"}
    )

    assert reply.status_code == 200
    assert reply.json() == {"data": {"__typename": "Query"}}


async def test_a_browser_get_of_graphql_is_not_the_clients_page(http: httpx.AsyncClient) -> None:
    # GraphiQL is off outside development: a GraphQL request without a query.
    reply = await http.get("/graphql", headers=NAVIGATION)

    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/json")


async def test_health_endpoints_still_answer(http: httpx.AsyncClient) -> None:
    health = await http.get("/healthz", headers=NAVIGATION)
    ready = await http.get("/readyz", headers=NAVIGATION)

    assert health.json() == {"status": "ok"}
    assert ready.json()["status"] == "ready"


async def test_metrics_still_answer_and_stay_hidden(site_app: Starlette) -> None:
    async with http_client(site_app, client_ip="127.0.0.1") as local:
        scraped = await local.get("/metrics", headers=NAVIGATION)
    async with http_client(site_app) as remote:
        hidden = await remote.get("/metrics", headers=NAVIGATION)

    assert scraped.status_code == 200
    assert "glassshop_" in scraped.text
    assert hidden.status_code == 404
    assert "GlassShop" not in hidden.text


# Without a build


async def test_without_an_index_no_client_is_served(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    application = serve(write_build(tmp_path / "dist", index=False), database_url, redis_url)
    async with LifespanManager(application), http_client(application) as http:
        root = await http.get("/", headers=NAVIGATION)
        asset = await http.get("/assets/app-abc123.js")
        health = await http.get("/healthz")

    assert root.status_code == 404
    assert asset.status_code == 404
    assert health.status_code == 200


async def test_the_log_says_whether_the_client_is_served(
    tmp_path: Path, database_url: str, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="glassshop"):
        serve(write_build(tmp_path / "with"), database_url, redis_url)
        serve(tmp_path / "missing", database_url, redis_url)

    messages = [record.getMessage() for record in caplog.records if "web client" in record.msg]
    assert messages == [
        f"Serving the web client from {tmp_path / 'with'} at /",
        f"Not serving the web client: {tmp_path / 'missing'} has no index.html"
        " (`npm run build` in client/)",
    ]
