"""Prometheus figures of one gateway process, in a registry of its own.

Deliveries are counted once per event and feed (not per client), so the
counter costs nothing on the fan-out's hot path.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Connections by kind, deliveries, publish→delivery latency, errors by code."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections = Gauge(
            "flightdeck_gateway_connections",
            "Open streaming connections",
            ["kind"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "flightdeck_gateway_deliveries",
            "Events handed to client buffers",
            registry=self.registry,
        )
        self.latency = Histogram(
            "flightdeck_gateway_publish_to_delivery_seconds",
            "From an event's time to its hand-off to client buffers",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "flightdeck_gateway_errors",
            "Error answers and stream cut-offs, by code",
            ["code"],
            registry=self.registry,
        )

    def opened(self, kind: str) -> None:
        self.connections.labels(kind=kind).inc()

    def closed(self, kind: str) -> None:
        self.connections.labels(kind=kind).dec()

    def delivered(self, count: int, latency_s: float) -> None:
        if count:
            self.deliveries.inc(count)
            self.latency.observe(max(latency_s, 0.0))

    def error(self, code: str) -> None:
        self.errors.labels(code=code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
