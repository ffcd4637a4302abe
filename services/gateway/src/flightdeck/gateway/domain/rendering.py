"""What a stream sends for one event, rendered once and shared by every client.

A *renderer* turns a recorded event into a :class:`Rendered` (SSE event name,
JSON bytes, whether it ends the stream) or ``None`` to skip it. The same
machinery serves deployments, logs or any other subject filter: only the
renderer (and an optional per-client filter) differs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flightdeck.events import Recorded
from flightdeck.gateway.domain import sse


class Rendered:
    """One event ready to send; the SSE frame is built on first use and then shared."""

    __slots__ = ("_frame", "data", "event", "joined", "position", "terminal")

    def __init__(self, position: int, event: str, data: bytes, terminal: bool = False) -> None:
        self.position = position
        self.event = event
        self.data = data
        self.terminal = terminal
        self._frame: bytes | None = None
        self.joined: bytes | None = None
        """Its frame in a joined stream (``adapters/joined.py``), built once and shared."""

    @property
    def sse(self) -> bytes:
        if self._frame is None:
            self._frame = sse.frame(self.position, self.event, self.data)
        return self._frame


Renderer = Callable[[Recorded[Any]], Rendered | None]
"""Shared rendering of one event for every client of a feed."""

ClientFilter = Callable[[Recorded[Any]], Rendered | None]
"""Per-client rendering (e.g. log lines matching this client's filter); ``None`` skips."""
