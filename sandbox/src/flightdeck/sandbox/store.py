"""The object store: every object, one global resourceVersion, and watch fan-out.

Like etcd behind a real API server, every write gets the next resourceVersion
and is recorded as a change. A bounded history of changes lets a watch resume
from any recent resourceVersion; one older than the window (or older than an
injected compaction) is answered with ``Expired`` (410). Stored objects are
never mutated: a write replaces the dict, so readers may hold on to one.
"""

from __future__ import annotations

import asyncio
import builtins
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Change:
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    key: str  # the resource type's key, e.g. "pods" or "deployments.apps"
    obj: Obj
    old: Obj | None = None

    @property
    def namespace(self) -> str:
        return str(self.obj.get("metadata", {}).get("namespace") or "")


class Expired(Exception):
    """The requested resourceVersion is older than the history the store keeps."""


@dataclass(eq=False)
class Watcher:
    """One watch connection's queue of changes; ``closed`` ends its stream."""

    key: str
    namespace: str | None
    limit: int
    pending: deque[Change] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False

    def offer(self, change: Change) -> None:
        if self.closed or change.key != self.key:
            return
        if self.namespace and change.namespace != self.namespace:
            return
        if len(self.pending) >= self.limit:
            self.close()  # a watcher that cannot keep up is dropped; the client relists
            return
        self.pending.append(change)
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()

    def drain(self) -> list[Change]:
        self.wake.clear()
        changes = list(self.pending)
        self.pending.clear()
        return changes


class Store:
    """All objects by resource key, namespace and name.

    Args:
        history: how many changes a watch can resume across.
        watcher_limit: changes queued for one slow watcher before it is dropped.
    """

    def __init__(self, history: int = 10000, watcher_limit: int = 20000) -> None:
        self._rv = 0
        self._objects: dict[str, dict[tuple[str, str], Obj]] = defaultdict(dict)
        self._history: deque[Change] = deque(maxlen=max(1, history))
        self._compacted = 0
        self._watchers: set[Watcher] = set()
        self._listeners: list[Callable[[Change], None]] = []
        self._watcher_limit = watcher_limit

    @property
    def rv(self) -> int:
        return self._rv

    def get(self, key: str, namespace: str, name: str) -> Obj | None:
        return self._objects[key].get((namespace, name))

    def list(self, key: str, namespace: str | None = None) -> list[Obj]:
        objects = self._objects[key]
        found = [o for (ns, _), o in objects.items() if namespace is None or ns == namespace]
        return sorted(found, key=_sort_key)

    def count(self, key: str) -> int:
        return len(self._objects[key])

    def put(self, key: str, obj: Obj) -> Obj:
        """Store a new or changed object under the next resourceVersion."""
        meta = obj["metadata"]
        ident = (meta.get("namespace") or "", meta["name"])
        old = self._objects[key].get(ident)
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        self._objects[key][ident] = obj
        self._record(Change(self._rv, "MODIFIED" if old else "ADDED", key, obj, old))
        return obj

    def restore(self, objects: Iterable[tuple[str, Obj]], rv: int) -> None:
        """Load objects kept from an earlier run, as they were (no change is recorded):
        the store continues from ``rv``, and a watch from any older version gets 410."""
        for key, obj in objects:
            meta = obj["metadata"]
            self._objects[key][(meta.get("namespace") or "", meta["name"])] = obj
        self._rv = max(self._rv, rv)
        self._compacted = self._rv

    def remove(self, key: str, namespace: str, name: str) -> Obj | None:
        old = self._objects[key].pop((namespace, name), None)
        if old is None:
            return None
        self._rv += 1
        gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self._rv)}}
        self._record(Change(self._rv, "DELETED", key, gone, old))
        return gone

    def _record(self, change: Change) -> None:
        self._history.append(change)
        for watcher in list(self._watchers):
            watcher.offer(change)
        for listener in self._listeners:
            listener(change)

    def listen(self, listener: Callable[[Change], None]) -> None:
        """Call ``listener`` synchronously after every change (the controllers' wake-up)."""
        self._listeners.append(listener)

    def watch(
        self, key: str, namespace: str | None, since: int | None
    ) -> tuple[builtins.list[Change], Watcher]:
        """Start a watch; returns the changes to replay first and the live watcher.

        ``since`` None means "current state first": synthetic ADDED events for
        every object, then live changes.

        Raises:
            Expired: ``since`` is older than the kept history.
        """
        if since is None:
            replay = [Change(self._rv, "ADDED", key, o) for o in self.list(key, namespace)]
        else:
            if since < self.oldest_resumable():
                raise Expired(f"too old resource version: {since} ({self.oldest_resumable()})")
            replay = [
                c
                for c in self._history
                if c.rv > since and c.key == key and (not namespace or c.namespace == namespace)
            ]
        watcher = Watcher(key, namespace, self._watcher_limit)
        self._watchers.add(watcher)
        return replay, watcher

    def unwatch(self, watcher: Watcher) -> None:
        watcher.close()
        self._watchers.discard(watcher)

    def oldest_resumable(self) -> int:
        """The lowest resourceVersion a watch may still start from."""
        window_start = self._history[0].rv - 1 if self._history else self._rv
        return max(window_start, self._compacted)

    def compact(self) -> None:
        """Forget the history, as an etcd compaction does: older versions now get 410."""
        self._rv += 1
        self._compacted = self._rv

    def drop_watchers(self) -> int:
        dropped = list(self._watchers)
        for watcher in dropped:
            self.unwatch(watcher)
        return len(dropped)

    def __iter__(self) -> Iterator[tuple[str, Obj]]:
        for key, objects in self._objects.items():
            for obj in objects.values():
                yield key, obj


def _sort_key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])
