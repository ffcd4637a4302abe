"""Deployments' first events: read now, or waited for while the orchestrator records one."""

from __future__ import annotations

import asyncio
from typing import Any

from flightdeck.events import Recorded
from flightdeck.eventstore import EventStore


class RecordedRequests:
    """A deployment's request as the event store holds it."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def read_first(self, subject: str) -> Recorded[Any] | None:
        return await self._store.read_first(subject)

    async def wait_first(self, subject: str, within_s: float) -> Recorded[Any] | None:
        """History then live on the one subject: an event stored before the subscription
        started is delivered as well as one stored after it."""
        try:
            async with asyncio.timeout(within_s), self._store.subscribe(subject) as events:
                return await events.next()
        except TimeoutError:
            return None
