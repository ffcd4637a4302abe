"""Health (NATS, database, projector lag) and Prometheus metrics; both open to scrapers."""

from __future__ import annotations

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.schemas import Health
from flightdeck.gateway.service_layer.health import HealthChecks, check_health


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
    async def health(self, health_checks: NamedDependency[HealthChecks]) -> Response[Health]:
        report = await check_health(health_checks)
        body = Health(
            status="UP" if report.up else "DOWN",
            nats=report.nats,
            database=report.database,
            projector_lag=report.projector_lag,
            connections=report.connections,
        )
        return Response(body, status_code=200 if report.up else 503)


class MetricsController(Controller):
    path = "/metrics"
    tags = ["operations"]

    @get(
        "/",
        operation_id="metrics",
        summary="Prometheus metrics (open: no key)",
        media_type=MediaType.TEXT,
    )
    async def metrics(self, metrics: NamedDependency[Metrics]) -> Response[bytes]:
        return Response(
            metrics.render(),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )
