"""Deployments and app slots, loaded from the event store and kept warm in memory.

A load reads only what was appended since the cached position, so handling an
observation costs one small direct get, however long the deployment's history.
Appends check the position the decision was taken at (optimistic concurrency):
the position of the aggregate's last stored message, so an undecodable message
(reported, never folded) cannot block the next append.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from flightdeck.events import Cause, ConcurrencyError, subjects
from flightdeck.events.deployments import Colour, DeploymentStatus
from flightdeck.eventstore import EventStore
from flightdeck.orchestrator.domain.slots import Slots, claim, evolve_slots, release
from flightdeck.orchestrator.domain.state import Loaded, fold


class Deployments:
    """Deployment aggregates by id; the ``max_cached`` most recently used stay in memory."""

    def __init__(self, store: EventStore, max_cached: int = 10_000) -> None:
        self._store = store
        self._cache: OrderedDict[str, Loaded] = OrderedDict()
        self._max = max_cached

    async def load(self, deployment_id: str) -> Loaded | None:
        """The deployment as stored now; ``None`` if it was never requested."""
        cached = self._cache.get(deployment_id)
        after = cached.position if cached else 0
        stored = await self._store.read_aggregate(subjects.deployment(deployment_id), after=after)
        if cached is not None and stored.last_position == after:
            self._cache.move_to_end(deployment_id)
            return cached
        state = fold(stored.events, cached.state if cached else None)
        if state is None:
            return None
        loaded = Loaded(state, stored.last_position)
        self._cache[deployment_id] = loaded
        self._cache.move_to_end(deployment_id)
        while len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return loaded


class AppSlots:
    """The per-app claims that serialise deployments and remember the serving colour."""

    def __init__(self, store: EventStore, attempts: int = 10) -> None:
        self._store = store
        self._attempts = attempts
        self._cache: dict[tuple[str, str], Slots] = {}

    async def load(self, namespace: str, app: str) -> Slots:
        slots = self._cache.get((namespace, app), Slots())
        stored = await self._store.read_aggregate(
            subjects.app(namespace, app), after=slots.position
        )
        for recorded in stored.events:
            slots = evolve_slots(slots, recorded)
        slots = replace(slots, position=stored.last_position)
        self._cache[(namespace, app)] = slots
        return slots

    async def claim(self, namespace: str, app: str, deployment_id: str, cause: Cause) -> Slots:
        """Claim the app for ``deployment_id`` unless someone holds it; the slots after."""
        for _ in range(self._attempts):
            slots = await self.load(namespace, app)
            event = claim(slots, namespace, app, deployment_id)
            if event is None:
                return slots
            try:
                await self._store.append(
                    subjects.app(namespace, app), [event], cause=cause, expected=slots.position
                )
            except ConcurrencyError:
                continue
        return await self.load(namespace, app)

    async def release(
        self,
        namespace: str,
        app: str,
        deployment_id: str,
        outcome: DeploymentStatus,
        serving: Colour | None,
        cause: Cause,
    ) -> None:
        """Release the app if ``deployment_id`` holds it (idempotent)."""
        for _ in range(self._attempts):
            slots = await self.load(namespace, app)
            event = release(slots, namespace, app, deployment_id, outcome, serving)
            if event is None:
                return
            try:
                await self._store.append(
                    subjects.app(namespace, app), [event], cause=cause, expected=slots.position
                )
                return
            except ConcurrencyError:
                continue
