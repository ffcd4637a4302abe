"""Health (NATS, database, projector lag) and Prometheus metrics; both open to scrapers."""

from __future__ import annotations

import asyncio

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.schemas import Health


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]

    @get(
        "/",
        operation_id="health",
        summary="Liveness and dependencies (open: no key)",
        responses={
            503: ResponseSpec(
                data_container=Health,
                generate_examples=False,
                description="NATS or the database is down (status DOWN)",
            )
        },
    )
    async def health(self, deps: NamedDependency[Deps]) -> Response[Health]:
        nats_ok = deps.store.connected
        db_ok = True
        try:
            await asyncio.wait_for(deps.database.ping(), 2.0)
        except Exception:
            db_ok = False
        lag: dict[str, int] = {}
        if deps.projector is not None and nats_ok and db_ok:
            try:
                lag = await asyncio.wait_for(deps.projector.lag(), 2.0)
            except Exception:
                lag = {}
        ok = nats_ok and db_ok
        body = Health(
            status="UP" if ok else "DOWN",
            nats=nats_ok,
            database=db_ok,
            projector_lag=lag,
            connections=deps.connections.counts(),
        )
        return Response(body, status_code=200 if ok else 503)


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]

    @get(
        "/",
        operation_id="metrics",
        summary="Prometheus metrics (open: no key)",
        media_type=MediaType.TEXT,
    )
    async def metrics(self, deps: NamedDependency[Deps]) -> Response[bytes]:
        return Response(
            deps.metrics.render(),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )
