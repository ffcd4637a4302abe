"""The event store as ops requests read it: last and first events, and waiting for one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from flightdeck.events import Recorded
from flightdeck.eventstore import EventStore


class OpsFeed:
    """:class:`~flightdeck.gateway.service_layer.ports.OpsEvents` on the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def read_first(self, subject: str) -> Recorded[Any] | None:
        return await self._store.read_first(subject)

    async def read_last(self, subject: str) -> Recorded[Any] | None:
        return await self._store.read_last(subject)

    async def read(self, subject: str) -> list[Recorded[Any]]:
        return await self._store.read(subject)

    async def wait_for(
        self, subject: str, wanted: Callable[[Recorded[Any]], bool], within_s: float
    ) -> Recorded[Any] | None:
        """History then live on the one subject, so an event stored before the
        subscription started counts as well as one stored after."""
        try:
            async with asyncio.timeout(within_s), self._store.subscribe(subject) as events:
                async for recorded in events:
                    if wanted(recorded):
                        return recorded
        except TimeoutError:
            return None
        return None
