"""Publishes observations: only news, and only as the rightful leader.

The publisher remembers the last observation of every object (seeded from the
stream itself, so a restart or a new leader does not publish the whole
cluster again) and appends only when :func:`~flightdeck.k8s_watcher.domain.diff.changed`
says so. Each append names the object's last position (optimistic
concurrency): a deposed leader that has not noticed yet fails instead of
publishing twice.
"""

from __future__ import annotations

from flightdeck.events import Cause, ConcurrencyError, new_id, subjects
from flightdeck.events.cluster import PodMetricsSampled, ResourceDeleted
from flightdeck.eventstore import EventStore
from flightdeck.k8s_watcher.domain.correlation import deployment_of
from flightdeck.k8s_watcher.domain.diff import Observation, changed

ACTOR = "service:k8s-watcher"


class Publisher:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        # subject → (its last observation, or None if unreadable; its position)
        self._last: dict[str, tuple[Observation | None, int]] = {}
        self.published = 0
        self.skipped = 0

    async def seed(self, namespace: str, kind: str) -> None:
        """Learn from the stream the last observation of every object of ``kind`` in
        ``namespace``, forgetting what this process remembered: a resync compares the
        cluster with what the history holds, not with what we think we sent."""
        prefix = _prefix(namespace, kind)
        for subject in [s for s in self._last if s.startswith(prefix)]:
            del self._last[subject]
        for recorded in await self._store.read_latest(prefix + "*"):
            self._last[recorded.subject] = (recorded.event, recorded.position)

    def last_published(self, namespace: str, kind: str) -> dict[str, Observation]:
        """Name → the last observation published of each object of ``kind`` (deletions too)."""
        prefix = _prefix(namespace, kind)
        return {
            subjects.untoken(subject[len(prefix) :]): event
            for subject, (event, _) in self._last.items()
            if subject.startswith(prefix) and event is not None
        }

    async def observe(self, kind: str, name: str, observation: Observation, uid: str) -> bool:
        """Publish ``observation`` of object ``name`` if it is news. Returns whether it was."""
        subject = subjects.cluster_object(observation.namespace, kind, name)
        for _ in range(3):
            last = self._last.get(subject)
            if not changed(last[0] if last else None, observation):
                self.skipped += 1
                return False
            try:
                result = await self._store.append(
                    subject,
                    [observation],
                    cause=_cause(self._correlation(observation) or uid),
                    expected=last[1] if last else 0,
                )
            except ConcurrencyError:
                await self._refresh(subject)
                continue
            self._last[subject] = (observation, result.last_position)
            self.published += 1
            return True
        return False

    def _correlation(self, observation: Observation | PodMetricsSampled) -> str | None:
        """The deployment behind the observed object (a deletion's or an Event's object
        as last published), so a deployment's history joins its pods' (ADR 0025)."""

        def last_seen(kind: str, name: str) -> Observation | None:
            known = self._last.get(subjects.cluster_object(observation.namespace, kind, name))
            return known[0] if known is not None else None

        return deployment_of(observation, last_seen)

    async def deleted(self, kind: str, namespace: str, name: str, uid: str) -> bool:
        gone = ResourceDeleted(kind=kind, namespace=namespace, name=name, uid=uid)
        return await self.observe(kind, name, gone, uid)

    async def sample(self, sample: PodMetricsSampled) -> None:
        """Metrics are samples, not state: every one is published, without a check."""
        subject = subjects.cluster_object(sample.namespace, "PodMetrics", sample.pod)
        await self._store.append(subject, [sample], cause=_cause(self._correlation(sample)))

    async def _refresh(self, subject: str) -> None:
        """What the stream holds last for ``subject``, at the position of its last stored
        message. If that message cannot be read (garbage someone published), its position
        still lets us append after it: the object's state is then published anew rather
        than never again."""
        found = await self._store.read_last(subject)
        position = await self._store.last_position(subject)
        if position:
            self._last[subject] = (found.event if found is not None else None, position)
        else:
            self._last.pop(subject, None)


def _prefix(namespace: str, kind: str) -> str:
    """``fd.evt.k8s.<ns>.<kind>.``: every object of one kind in one namespace."""
    return subjects.cluster_object(namespace, kind, "x")[:-1]


def _cause(correlation: str | None) -> Cause:
    """Observations of what a deployment made carry its id (the deployment's correlation);
    of anything else, the object's uid."""
    return Cause(actor=ACTOR, correlation_id=correlation or new_id())
