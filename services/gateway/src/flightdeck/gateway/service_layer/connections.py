"""The open streaming connections: admission, heartbeats, idle time-outs, GC freezing.

One ticker serves every connection (not a timer each): it pokes connections
that have been quiet for a heartbeat period, closes those idle past the
time-out, and ``gc.freeze()``s long-lived objects as the population grows *or
turns over*, since a full collection over thousands of connections' objects set
the p99 (STACK-NOTES: 85-110 ms per collection at 1,000 connections).

Freezing only on growth left a population that replaced an earlier one of the
same size unfrozen (the benchmark's second scenario, or clients reconnecting
after a restart), and the garbage of a population that left for the next full
collection to find, wherever it happened (a new client's replay paid ~0.1 s).
So a change of 20 % (connections opened plus closed since the last freeze) also
re-freezes: it first unfreezes and collects everything once, so the cycles of
connections that closed while frozen are reclaimed instead of kept for good,
and it runs at most every ``refreeze_s``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from typing import Protocol

from flightdeck.gateway.domain.limits import Limit, admit_connection

REVOKED = "the API key was revoked"
"""Why a stream opened with a key closes when the key is revoked (ADR 0015)."""


class ConnectionGauge(Protocol):
    """Counts open connections by kind (the gateway's Prometheus metrics)."""

    def opened(self, kind: str) -> None: ...

    def closed(self, kind: str) -> None: ...


class Connection(Protocol):
    kind: str
    tenant: str

    @property
    def token_id(self) -> str | None:
        """The API key it was opened with (or its stream ticket's)."""
        ...

    def tick(self, now: float) -> None: ...

    def close(self, reason: str) -> None: ...


class Connections:
    """Admits streaming connections within ``limit`` (per tenant and overall) and looks
    after them while open."""

    def __init__(
        self,
        limit: Limit,
        metrics: ConnectionGauge,
        *,
        tick_s: float = 1.0,
        freeze_gc: bool = True,
        refreeze_s: float = 5.0,
    ) -> None:
        self.limit = limit
        self._metrics = metrics
        self._tick_s = tick_s
        self._freeze_gc = freeze_gc
        self._refreeze_s = refreeze_s
        self._open: dict[Connection, None] = {}
        self._per_tenant: Counter[str] = Counter()
        self._frozen_at = 0
        self._changed_since_freeze = 0
        self._last_refreeze = -refreeze_s

    def admit(self, conn: Connection) -> None:
        admit_connection(self.limit, self._per_tenant[conn.tenant], len(self._open))
        self._open[conn] = None
        self._per_tenant[conn.tenant] += 1
        self._changed_since_freeze += 1
        self._metrics.opened(conn.kind)

    def release(self, conn: Connection) -> None:
        if self._open.pop(conn, 0) is None:
            self._per_tenant[conn.tenant] -= 1
            if self._per_tenant[conn.tenant] <= 0:
                del self._per_tenant[conn.tenant]
            self._changed_since_freeze += 1
            self._metrics.closed(conn.kind)

    def of_tenant(self, tenant: str) -> int:
        return self._per_tenant[tenant]

    def counts(self) -> dict[str, int]:
        return dict(Counter(c.kind for c in self._open))

    def __len__(self) -> int:
        return len(self._open)

    def close_all(self, reason: str) -> None:
        for conn in list(self._open):
            conn.close(reason)

    def close_token(self, token_id: str) -> None:
        """End every stream opened with the key ``token_id`` (it was revoked)."""
        for conn in list(self._open):
            if conn.token_id == token_id:
                conn.close(REVOKED)

    async def run(self) -> None:
        """Tick every connection until cancelled."""
        while True:
            await asyncio.sleep(self._tick_s)
            now = time.monotonic()
            for conn in list(self._open):
                conn.tick(now)
            self._maybe_freeze(now)

    def _maybe_freeze(self, now: float) -> str | None:
        """Freeze what the connections hold once they have grown or changed by 20 %."""
        if not self._freeze_gc:
            return None
        size = len(self._open)
        if size > 50 and size > self._frozen_at * 1.2:
            gc.collect(1)
            gc.freeze()
            done = "grown"
        elif (
            self._changed_since_freeze > 50
            and self._changed_since_freeze > max(size, self._frozen_at) * 0.2
            and now - self._last_refreeze >= self._refreeze_s
        ):
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._last_refreeze = now
            done = "changed"
        else:
            return None
        self._frozen_at = size
        self._changed_since_freeze = 0
        return done
