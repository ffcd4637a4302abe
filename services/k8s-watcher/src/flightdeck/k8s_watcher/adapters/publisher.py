"""Publishes observations: only news, and only as the rightful leader.

The publisher remembers the last observation of every object (seeded from the
stream itself, so a restart or a new leader does not publish the whole
cluster again) and appends only when :func:`~flightdeck.k8s_watcher.domain.diff.changed`
says so. Each append names the object's last position (optimistic
concurrency): a deposed leader that has not noticed yet fails instead of
publishing twice.
"""

from __future__ import annotations

from flightdeck.events import Cause, ConcurrencyError, EventStore, new_id, subjects
from flightdeck.events.cluster import PodMetricsSampled, ResourceDeleted
from flightdeck.k8s_watcher.domain.diff import Observation, changed

ACTOR = "service:k8s-watcher"


class Publisher:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._last: dict[str, tuple[Observation, int]] = {}
        self._unknown: dict[str, int] = {}  # subjects holding nothing decodable: position
        self.published = 0
        self.skipped = 0

    async def seed(self, namespace: str, kind: str) -> None:
        """Remember the last stored observation of every object of ``kind`` in ``namespace``."""
        prefix = subjects.cluster_object(namespace, kind, "x")[:-1]
        for recorded in await self._store.read_latest(prefix + "*"):
            self._last[recorded.subject] = (recorded.event, recorded.position)

    def alive(self, namespace: str, kind: str) -> dict[str, str]:
        """Name → uid of the objects of ``kind`` last seen alive (a re-list finds deletions)."""
        prefix = subjects.cluster_object(namespace, kind, "x")[:-1]
        return {
            subjects.untoken(subject[len(prefix) :]): str(getattr(event, "uid", ""))
            for subject, (event, _) in self._last.items()
            if subject.startswith(prefix) and not isinstance(event, ResourceDeleted)
        }

    async def observe(self, kind: str, name: str, observation: Observation, uid: str) -> bool:
        """Publish ``observation`` of object ``name`` if it is news. Returns whether it was."""
        subject = subjects.cluster_object(observation.namespace, kind, name)
        for _ in range(3):
            last = self._last.get(subject)
            if not changed(last[0] if last else None, observation):
                self.skipped += 1
                return False
            expected = last[1] if last else self._unknown.get(subject, 0)
            try:
                result = await self._store.append(
                    subject, [observation], cause=_cause(uid), expected=expected
                )
            except ConcurrencyError:
                await self._refresh(subject)
                continue
            self._unknown.pop(subject, None)
            self._last[subject] = (observation, result.last_position)
            self.published += 1
            return True
        return False

    async def deleted(self, kind: str, namespace: str, name: str, uid: str) -> bool:
        gone = ResourceDeleted(kind=kind, namespace=namespace, name=name, uid=uid)
        return await self.observe(kind, name, gone, uid)

    async def sample(self, sample: PodMetricsSampled) -> None:
        """Metrics are samples, not state: every one is published, without a check."""
        subject = subjects.cluster_object(sample.namespace, "PodMetrics", sample.pod)
        await self._store.append(subject, [sample], cause=_cause(None))

    async def _refresh(self, subject: str) -> None:
        """The object's last observation, at the position of its last stored message: an
        undecodable message on top must not make every later append conflict."""
        found = await self._store.read_last(subject)
        position = await self._store.last_position(subject)
        if found is None:
            self._last.pop(subject, None)
            if position:
                self._unknown[subject] = position
        else:
            self._last[subject] = (found.event, position)


def _cause(uid: str | None) -> Cause:
    """Observations of one object share a correlation id: the object's uid."""
    return Cause(actor=ACTOR, correlation_id=uid or new_id())
