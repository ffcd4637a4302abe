"""Where a snapshot and the subscription after it meet: each event is applied once, in order."""

from __future__ import annotations

from typing import Any

from flightdeck.events import Recorded


class Seam:
    """Joins the snapshot to the subscription: an event is new unless the snapshot
    already held that subject at the same or a later position."""

    def __init__(self, snapshot: list[Recorded[Any]]) -> None:
        self._held = {r.subject: r.position for r in snapshot}

    def new(self, recorded: Recorded[Any]) -> bool:
        held = self._held.get(recorded.subject)
        if held is None:
            return True
        if recorded.position <= held:
            return False
        del self._held[recorded.subject]  # past the snapshot for this subject: all new now
        return True
