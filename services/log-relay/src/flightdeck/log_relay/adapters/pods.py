"""Pods as the k8s-watcher saw them: one snapshot, then every change, with no seam.

The relay never lists the cluster itself. It notes where ``FD_CLUSTER`` ends,
reads the last observation of every pod, then subscribes from the noted end.
Nothing falls between the two; the few events both deliver are recognised by
their position (see :class:`~flightdeck.log_relay.domain.seam.Seam`), so none is
applied twice or out of order.
"""

from __future__ import annotations

from typing import Any

from flightdeck.events import Recorded, streams, subjects
from flightdeck.eventstore import EventStore, Subscription

ALL_PODS = f"{subjects.EVENTS}.k8s.*.pod.*"


class PodFeed:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def snapshot(self) -> tuple[list[Recorded[Any]], int]:
        """The last event of every pod subject, and the position to subscribe after."""
        before = await self._store.stream_last_position(streams.CLUSTER)
        return await self._store.read_latest(ALL_PODS), before

    def changes(self, after: int) -> Subscription:
        """Every pod event after ``after``, live."""
        return self._store.subscribe(ALL_PODS, after=after)
