"""What the watcher's service layer needs of the outside world, each as a small Protocol.

The adapters satisfy them structurally; :mod:`flightdeck.k8s_watcher.bootstrap`
builds the adapters and hands each loop only what it uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from flightdeck.events.cluster import PodMetricsSampled
from flightdeck.k8s_watcher.domain.diff import Observation

Obj = dict[str, Any]
"""A Kubernetes object as raw JSON."""


class ClusterReading(Protocol):
    """Lists and watches of one kind in one namespace, and pod metrics."""

    async def list_objects(self, kind: str, namespace: str) -> tuple[list[Obj], str]: ...

    def watch(
        self, kind: str, namespace: str, resource_version: str, timeout_s: int
    ) -> AsyncIterator[tuple[str, Obj]]: ...

    async def pod_metrics(self, namespace: str) -> list[Obj]: ...


class Publishing(Protocol):
    """Publishes observations that are news, remembering what was published last."""

    async def seed(self, namespace: str, kind: str) -> None: ...

    def last_published(self, namespace: str, kind: str) -> dict[str, Observation]: ...

    async def observe(self, kind: str, name: str, observation: Observation, uid: str) -> bool: ...

    async def deleted(self, kind: str, namespace: str, name: str, uid: str) -> bool: ...

    async def sample(self, sample: PodMetricsSampled) -> None: ...


class LeaderLease(Protocol):
    async def lead(self, work: Callable[[], Awaitable[None]]) -> None:
        """Forever: wait to become leader, run ``work`` while leader, stop it when not."""
        ...


class ReconnectCount(Protocol):
    """How often the connection to the event store came back (the store itself)."""

    @property
    def reconnects(self) -> int: ...

    async def reconnected(self, since: int) -> int:
        """Return once the connection has reconnected since ``since``."""
        ...


class Closeable(Protocol):
    async def close(self) -> None: ...
