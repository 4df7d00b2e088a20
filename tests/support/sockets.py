"""A graphql-transport-ws client over a real websocket, message by message."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

MESSAGE_TIMEOUT = 10.0


async def open_socket(url: str, token: str | None) -> ClientConnection:
    """Connected and initialised (connection_init sent), not yet acknowledged."""
    protocol = Subprotocol("graphql-transport-ws")
    ws = await connect(url.replace("http", "ws", 1) + "/graphql", subprotocols=[protocol])
    payload: dict[str, Any] = {"authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), MESSAGE_TIMEOUT))
    return message


async def acknowledged_socket(url: str, token: str) -> ClientConnection:
    ws = await open_socket(url, token)
    ack = await receive(ws)
    assert ack["type"] == "connection_ack", ack
    return ws


async def send_operation(
    ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any] | None = None
) -> None:
    payload = {"query": query, "variables": variables or {}}
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def run_operation(
    ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A query's one result: the payload of its `next` (data and errors), or of its
    `error` message as {"errors": [...]}; its `complete` is read too."""
    await send_operation(ws, op_id, query, variables)
    message = await receive(ws)
    assert message.get("id") == op_id, message
    if message["type"] == "error":
        return {"errors": message["payload"]}
    assert message["type"] == "next", message
    done = await receive(ws)
    assert (done["type"], done.get("id")) == ("complete", op_id), done
    result: dict[str, Any] = message["payload"]
    return result


def error_codes(result: dict[str, Any]) -> list[str]:
    return [error.get("extensions", {}).get("code") for error in result.get("errors") or []]
