"""uvicorn, with a drain before it closes the idle connections on shutdown.

On SIGTERM uvicorn closes its listener, then every connection that is not in the middle
of a request. While a CPU-heavy request holds the event loop, the connections made
meanwhile wait in the listener's backlog and their requests in the kernel: uvicorn
would reset them instead of answering. So the loop first goes round a few times with
the listener still open, accepting what is already waiting, then closes it and goes
round a few more times reading what has arrived on the open connections; only then
does uvicorn's own shutdown begin (it finishes the requests in flight within
timeout_graceful_shutdown). Each round is a short sleep: a request still running may
hold the loop for long between two, which is why rounds are counted, not seconds."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

# Rounds of the event loop, DRAIN_STEP seconds apart at least: accepting what waits in
# the backlog, then (listener closed) reading the requests that have arrived.
ACCEPT_ROUNDS = 3
READ_ROUNDS = 7
DRAIN_STEP = 0.05


class DrainingServer(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await _rounds(ACCEPT_ROUNDS)
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        await _rounds(READ_ROUNDS)
        await super().shutdown(sockets=None)


async def _rounds(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(DRAIN_STEP)


def serve(app: Any, **options: Any) -> None:
    """uvicorn.run with DrainingServer. With workers > 1 uvicorn's own supervisor builds
    each worker's server, so those shut down without the drain: the image and the
    Kubernetes files run one worker per container (WEB_CONCURRENCY=1) and scale by
    containers."""
    if options.get("workers", 1) > 1:
        uvicorn.run(app, **options)
        return
    server = DrainingServer(uvicorn.Config(app, **options))
    # As uvicorn.run does: Ctrl+C ends a shutdown uvicorn has already completed (no
    # traceback), and a server that never started exits with uvicorn's status 3.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
