"""How reading the cluster fails, as the watcher's loops see it.

The Kubernetes adapter turns its client library's errors into these, so the
service layer decides what to retry without importing the adapter or the
library (the layering contracts in the root ``pyproject.toml``).
"""

from __future__ import annotations

from flightdeck.events import EventStoreError


class Expired(Exception):
    """The resourceVersion we watch from is gone (410): list again."""


class ClusterUnavailable(Exception):
    """The Kubernetes API could not be read (connection, an error answer): try again."""


TRANSIENT = (
    ClusterUnavailable,
    TimeoutError,
    OSError,
    EventStoreError,  # NATS away: publish again from the last version published
)
"""What a watch, a resync or a metrics poll retries after."""
