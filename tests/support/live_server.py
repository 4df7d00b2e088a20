"""A real uvicorn server on a free loopback port, for tests that need real sockets
(websockets, external HTTP clients)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from api.app import create_app
from api.settings import Settings

START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10


@contextmanager
def live_server(settings: Settings, name: str = "uvicorn-test") -> Iterator[str]:
    """Yields the server's base URL, e.g. http://127.0.0.1:43210."""
    # Binding port 0 here and handing uvicorn the socket leaves no window for another
    # process to take the port between choosing and binding it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings),
        lifespan="on",
        log_config=None,  # leave the test run's logging as it is
        access_log=False,
        timeout_graceful_shutdown=STOP_TIMEOUT_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            assert thread.is_alive(), "uvicorn exited during startup (see the log above)"
            assert time.monotonic() < deadline, "uvicorn did not start in time"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_SECONDS + 5)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not shut down"
