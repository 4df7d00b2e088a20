"""The typed per-request context: identity, unit of work (one DB session), loaders."""

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

    def __post_init__(self) -> None:
        self.loaders = Loaders(lambda: self.uow.db, self.resources.cache)

    async def next_event(self) -> None:
        """Between two events of a long-lived subscription: no open transaction, no
        loader results kept from the previous event."""
        await self.uow.release()
        self.loaders = Loaders(lambda: self.uow.db, self.resources.cache)

    @property
    def db(self) -> AsyncSession:
        return self.uow.db


Info = strawberry.Info[Context, Any]
