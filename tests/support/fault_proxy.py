"""A small TCP fault proxy for the outage tests (toxiproxy is not installable here).

It listens on a free loopback port and forwards every connection to a target (the real
PostgreSQL or Redis), and can be switched at any time:

- `passing()`: forward (the default, and how `resume()` leaves it);
- `cut()`: close every open connection and refuse new ones (connect is reset), as when
  the server goes down or restarts;
- `blackhole()`: keep every connection open but move no byte either way, and accept new
  connections without ever reaching the target, as on a hung network. Only timeouts
  end a request then.

It runs on an event loop of its own, in a thread, so the code under test (in this
process's test loop, in a uvicorn thread, or in a subprocess) never shares a loop with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

Mode = Literal["pass", "cut", "blackhole"]
T = TypeVar("T")

CHUNK = 65536
CONTROL_TIMEOUT_SECONDS = 10.0


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode: Mode = "pass"
        self.port = 0
        self.connections_accepted = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._flowing: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- control, from any thread ---

    def start(self) -> None:
        self._thread.start()
        self._run(self._start())

    def stop(self) -> None:
        self._run(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CONTROL_TIMEOUT_SECONDS)
        self._loop.close()

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._run(self._switch("cut"))

    def blackhole(self) -> None:
        """Hold every connection open, forwarding nothing; new ones hang too."""
        self._run(self._switch("blackhole"))

    def resume(self) -> None:
        """Forward again; held connections carry on where they stopped."""
        self._run(self._switch("pass"))

    def url_for(self, url: str) -> str:
        """`url` (postgresql:// or redis://) with its host and port replaced by this proxy's."""
        parts = urlsplit(url)
        credentials, _, _ = parts.netloc.rpartition("@")
        netloc = f"{credentials}@" if credentials else ""
        return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{self.port}"))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=CONTROL_TIMEOUT_SECONDS)

    # --- the proxy, on its own loop ---

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self._close_all()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _switch(self, mode: Mode) -> None:
        assert self._flowing is not None
        self.mode = mode
        if mode == "pass":
            self._flowing.set()
            return
        self._flowing.clear()
        if mode == "cut":
            self._close_all()

    def _close_all(self) -> None:
        for writer in list(self._writers):
            _abort(writer)
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None and self._flowing is not None
        self._tasks.add(task)
        self.connections_accepted += 1
        try:
            if self.mode == "cut":
                _abort(writer)
                return
            self._writers.add(writer)
            # Blackholed: the client is connected to us, but we never reach the target.
            await self._flowing.wait()
            if writer.is_closing():  # cut while it waited
                return
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
            except OSError:
                _abort(writer)
                return
            self._writers.add(upstream_writer)
            await asyncio.gather(
                self._pump(reader, upstream_writer),
                self._pump(upstream_reader, writer),
                return_exceptions=True,
            )
        finally:
            self._writers.discard(writer)
            _abort(writer)
            self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        try:
            while True:
                await self._flowing.wait()
                data = await reader.read(CHUNK)
                if not data:
                    break
                # Read while flowing, then blackholed: hold the bytes until resumed.
                await self._flowing.wait()
                if writer.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close at once, with a reset rather than an orderly FIN, as a dying server does."""
    transport = writer.transport
    if transport.is_closing():
        return
    with contextlib.suppress(OSError):
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


@contextmanager
def fault_proxy(target_url: str) -> Iterator[FaultProxy]:
    """A started proxy in front of the server of `target_url`, stopped on exit."""
    parts = urlsplit(target_url)
    assert parts.hostname is not None and parts.port is not None, target_url
    proxy = FaultProxy(parts.hostname, parts.port)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
