"""GET /metrics: the process's Prometheus registry, for scrapers on METRICS_NETWORKS."""

from __future__ import annotations

import ipaddress

from sqlmodel import col, func, select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.infra.metrics import CONTENT_TYPE
from api.resources import Resources
from db.models import OutboxMessage


def _allowed(request: Request, networks: list[str]) -> bool:
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


async def metrics_endpoint(request: Request) -> Response:
    resources: Resources = request.app.state.resources
    if not _allowed(request, resources.settings.metrics_networks):
        # As if there were nothing here: scrapers come from configured networks only.
        return PlainTextResponse("Not Found", status_code=404)
    async with resources.database() as db:
        pending = await db.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status) == "pending")
        )
        resources.metrics.outbox_backlog.set(pending.one())
    return Response(resources.metrics.exposition(), media_type=CONTENT_TYPE)
