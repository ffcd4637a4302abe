"""Deploy admission: pending and in-progress deployments within the concurrency limits.

The read model counts what the projector has seen; a deployment this gateway
accepted a moment ago may not be there yet, so the admission remembers it
until it is (or for a grace period). Admissions are taken one at a time, so
two requests never both take the last place.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

from flightdeck.gateway.domain import limits
from flightdeck.gateway.domain.deploy import ACTIVE_STATUSES
from flightdeck.gateway.domain.limits import Limit
from flightdeck.gateway.service_layer.ports import DeploymentCounts

PENDING_GRACE_S = 60.0
"""A requested deployment not yet in the read model still counts as active this long."""


class DeployAdmission:
    """Owns the admission lock and the deployments accepted but not yet projected."""

    def __init__(
        self,
        counts: DeploymentCounts,
        limit: Limit,
        *,
        grace_s: float = PENDING_GRACE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._counts = counts
        self._grace_s = grace_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._requested: dict[str, tuple[float, str]] = {}

    async def active(self, tenant: str) -> tuple[int, int]:
        """Deployments in progress, ``tenant``'s and everyone's: the read model's, plus
        the ones this gateway accepted that it had not seen there yet.

        One the projector writes between the two reads still counts (once): it is
        forgotten here only after it has been counted.
        """
        active = await self._counts.active_deployments(ACTIVE_STATUSES)
        now = self._clock()
        for dep_id, (at, _) in list(self._requested.items()):
            if now - at > self._grace_s:
                del self._requested[dep_id]
        unseen = {d: owner for d, (_, owner) in self._requested.items() if d not in active}
        for dep_id in await self._counts.known_deployments(list(unseen)):
            self._requested.pop(dep_id, None)
        owners = [*active.values(), *unseen.values()]
        return owners.count(tenant), len(owners)

    @asynccontextmanager
    async def admit(self, tenant: str) -> AsyncIterator[Callable[[str], None]]:
        """Hold the one admission while ``tenant``'s request is checked and stored.

        Raises ``QUEUE_FULL`` or ``AT_CAPACITY`` at once when there is no room;
        otherwise yields ``accepted``, to call with the new deployment's id once
        its request is stored.
        """
        async with self._lock:
            limits.admit_deployment(self.limit, *await self.active(tenant))
            yield partial(self._accepted, tenant)

    def _accepted(self, tenant: str, deployment_id: str) -> None:
        self._requested[deployment_id] = (self._clock(), tenant)
