"""The typed per-operation context: identity, unit of work (one DB session), loaders.

Over HTTP each operation has a context of its own. A websocket has one connection
context (its connection_init token, checked once to accept the socket) and every
operation sent on it runs with its own copy (`for_operation`): its own unit of work and
loaders, and an identity checked again for that operation (schema/operation_scope.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.identity import Identity
from api.resources import Resources
from api.unit_of_work import UnitOfWork
from schema.loaders import Loaders


@dataclass(eq=False)
class Context:
    request: Request | WebSocket
    response: Response | None
    resources: Resources
    identity: Identity
    uow: UnitOfWork
    loaders: Loaders = field(init=False)
    # graphql-transport-ws: the connection_init payload (where browsers send the token).
    connection_params: dict[str, Any] | None = None
    # The access token of a websocket's connection_init (None: none was sent).
    bearer: str | None = None
    # A websocket's connection context, which no operation runs with.
    is_connection: bool = False

    def __post_init__(self) -> None:
        self.loaders = Loaders(lambda: self.uow.db, self.resources.cache)

    async def next_event(self) -> None:
        """Between two events of a long-lived subscription: no open transaction, no
        loader results kept from the previous event."""
        await self.uow.release()
        self.loaders = Loaders(lambda: self.uow.db, self.resources.cache)

    @property
    def on_socket(self) -> bool:
        return isinstance(self.request, WebSocket)

    def for_operation(self) -> Context:
        """The context of one operation on this websocket: its own unit of work and
        loaders; the identity is the connection's until the operation checks it again."""
        return Context(
            request=self.request,
            response=None,
            resources=self.resources,
            identity=self.identity,
            uow=self.uow.fresh(),
            connection_params=self.connection_params,
            bearer=self.bearer,
        )

    @property
    def db(self) -> AsyncSession:
        return self.uow.db


Info = strawberry.Info[Context, Any]
