"""Sentry, when SENTRY_DSN is set: an unexpected exception is reported as an event, to a
real HTTP endpoint run by the test, without the Authorization header, cookies or the
request body (where passwords travel)."""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sentry_sdk
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from api.app import create_app
from api.infra.telemetry import shutdown_telemetry
from api.settings import Settings
from schema.accounts import service
from tests.support.graphql import LOGIN, GraphQLClient

PASSWORD = "a password nobody may see"
TOKEN = "an-access-token-nobody-may-see"
COOKIE = "a-refresh-cookie-nobody-may-see"


class SentryReceiver:
    """A minimal Sentry ingestion endpoint: keeps the bodies POSTed to it, decoded."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.received = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                encoding = self.headers.get("content-encoding", "")
                if encoding == "gzip":
                    raw = gzip.decompress(raw)
                elif encoding == "deflate":
                    raw = zlib.decompress(raw)
                receiver.bodies.append(raw)
                receiver.received.set()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]

    @property
    def text(self) -> str:
        return b"\n".join(self.bodies).decode(errors="replace")

    def events(self) -> list[dict[str, Any]]:
        """The error events among the envelopes' items (one JSON document a line)."""
        documents = [json.loads(line) for line in self.text.splitlines() if line.strip()]
        return [doc for doc in documents if "exception" in doc and "request" in doc]


@pytest.fixture
def receiver() -> Iterator[SentryReceiver]:
    server = SentryReceiver()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
async def reporting_client(
    settings: Settings, receiver: SentryReceiver
) -> AsyncIterator[GraphQLClient]:
    dsn = f"http://public@127.0.0.1:{receiver.port}/1"
    app = create_app(settings.model_copy(update={"sentry_dsn": SecretStr(dsn)}))
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
                yield GraphQLClient(http)
    finally:
        shutdown_telemetry()


async def test_an_unexpected_exception_is_reported_without_credentials(
    reporting_client: GraphQLClient, receiver: SentryReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_login(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("login broke unexpectedly")

    monkeypatch.setattr(service, "login", broken_login)

    reply = await reporting_client.execute(
        LOGIN,
        {"input": {"email": "ada@example.com", "password": PASSWORD}},
        token=TOKEN,
        headers={"cookie": f"glassshop_refresh={COOKIE}"},
    )
    sentry_sdk.flush(timeout=5)

    assert reply.error_codes == ["INTERNAL_SERVER_ERROR"]
    assert receiver.received.wait(5), "no event reached the Sentry endpoint"
    reported = receiver.text
    assert "login broke unexpectedly" in reported
    assert PASSWORD not in reported
    assert TOKEN not in reported
    assert COOKIE not in reported
    [event] = receiver.events()
    headers = {name.lower() for name in event["request"]["headers"]}
    assert "authorization" not in headers
    assert "cookie" not in headers
    assert "data" not in event["request"]


async def test_an_expected_error_is_not_reported(
    reporting_client: GraphQLClient, receiver: SentryReceiver
) -> None:
    reply = await reporting_client.execute(
        LOGIN, {"input": {"email": "nobody@example.com", "password": PASSWORD}}
    )
    sentry_sdk.flush(timeout=5)

    assert reply.error_codes == ["UNAUTHENTICATED"]
    assert receiver.events() == []
