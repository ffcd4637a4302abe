"""Is the gateway healthy: NATS connected, the database answering, how far the projector trails.

Each check is bounded in time, so a hung dependency answers DOWN instead of
hanging the probe; the projector's lag is asked only when both are up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class HealthChecks:
    """What the health check asks."""

    nats_connected: Callable[[], bool]
    ping_database: Callable[[], Awaitable[None]]
    projector_lag: Callable[[], Awaitable[dict[str, int]]] | None
    """``None`` when the projector runs elsewhere."""
    connection_counts: Callable[[], dict[str, int]]


@dataclass(frozen=True)
class HealthReport:
    nats: bool
    database: bool
    projector_lag: dict[str, int]
    connections: dict[str, int]

    @property
    def up(self) -> bool:
        return self.nats and self.database


async def check_health(checks: HealthChecks) -> HealthReport:
    nats_ok = checks.nats_connected()
    db_ok = True
    try:
        await asyncio.wait_for(checks.ping_database(), CHECK_TIMEOUT_S)
    except Exception:
        db_ok = False
    lag: dict[str, int] = {}
    if checks.projector_lag is not None and nats_ok and db_ok:
        try:
            lag = await asyncio.wait_for(checks.projector_lag(), CHECK_TIMEOUT_S)
        except Exception:
            lag = {}
    return HealthReport(
        nats=nats_ok, database=db_ok, projector_lag=lag, connections=checks.connection_counts()
    )
