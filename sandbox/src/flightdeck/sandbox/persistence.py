"""The sandbox keeps its cluster in its state dir, as a real cluster keeps etcd.

Every object (but core Events, which a real cluster also lets expire), the
resourceVersion, the images pushed to its ECR and the ports it listened on are
written to ``cluster.json`` shortly after they change and when the sandbox
stops; the next sandbox on the same state dir starts from them. Pods come back
as after a node reboot: their containers start again (``flightdeck up`` after
``flightdeck up`` finds the previous colour serving, as the history says).
Deleting the file (``flightdeck up --fresh``) gives an empty cluster.

The file is owner-only and replaced atomically (written beside it, then renamed),
so a sandbox killed mid-write leaves the previous snapshot, never half of one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from flightdeck.runtime.privatefiles import replace_private
from flightdeck.sandbox.store import Store

log = logging.getLogger(__name__)
FILE = "cluster.json"
FORMAT = 1
SKIPPED_KEYS = frozenset({"events", "events.events.k8s.io"})


class Snapshot(msgspec.Struct, kw_only=True):
    """What survives a restart of the sandbox."""

    format: int = FORMAT
    generation: int = 0
    """How many sandboxes have run on this state: seeds the name generator anew each time,
    so a restarted cluster never hands out a uid or pod name it already has."""
    resource_version: int = 0
    objects: dict[str, list[dict[str, Any]]] = msgspec.field(default_factory=dict)
    images: list[tuple[str, str]] = msgspec.field(default_factory=list)
    ports: dict[str, int] = msgspec.field(default_factory=dict)


@dataclass
class ClusterState:
    """The snapshot file of one state dir: loaded once at start, saved as things change."""

    path: Path
    snapshot: Snapshot = field(default_factory=Snapshot)
    _saved_rv: int = -1

    @classmethod
    def open(cls, state_dir: Path) -> ClusterState:
        """The state dir's snapshot (a fresh one when there is none, or it cannot be read)."""
        path = state_dir / FILE
        state = cls(path)
        if path.exists():
            try:
                state.snapshot = msgspec.json.decode(path.read_bytes(), type=Snapshot)
            except (OSError, msgspec.DecodeError) as exc:
                log.warning("cannot read %s (%s): starting with an empty cluster", path, exc)
                state.snapshot = Snapshot()
        return state

    @property
    def restored(self) -> bool:
        return bool(self.snapshot.objects)

    def start_generation(self) -> int:
        """Count this run; returns its number (0 for a cluster that starts empty)."""
        generation = self.snapshot.generation + 1 if self.restored else 0
        self.snapshot.generation = generation
        return generation

    def restore(self, store: Store) -> None:
        """Put the snapshot's objects back into ``store`` (their versions as they were)."""
        store.restore(
            ((key, obj) for key, objects in self.snapshot.objects.items() for obj in objects),
            self.snapshot.resource_version,
        )

    def add_image(self, repository: str, tag: str) -> None:
        if (repository, tag) not in self.snapshot.images:
            self.snapshot.images.append((repository, tag))
            self._write()

    def save(self, store: Store, ports: dict[str, int] | None = None) -> None:
        """Write the store's objects, if anything changed since the last save."""
        if ports is not None:
            self.snapshot.ports = dict(ports)
        if store.rv == self._saved_rv:
            return
        objects: dict[str, list[dict[str, Any]]] = {}
        for key, obj in store:
            if key not in SKIPPED_KEYS:
                objects.setdefault(key, []).append(obj)
        self.snapshot.objects = objects
        self.snapshot.resource_version = store.rv
        self._write()
        self._saved_rv = store.rv

    def _write(self) -> None:
        replace_private(self.path, msgspec.json.encode(self.snapshot))
