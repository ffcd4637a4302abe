"""The per-client buffer between the fan-out and one connection: the backpressure policy.

While a new client replays history, live events are *held*; when the replay
ends at position ``p`` the held events at or below ``p`` are dropped (the
replay already sent them) and the rest queued, so the seam has no gap and no
duplicate. A live client has at most ``limit`` events pending; one more means
it cannot keep up, and it is cut off (``overflowed``) instead of slowing
anyone else or growing without bound. ``resume_from`` is then the last
position the writer handed to the transport: the client resumes after it.
"""

from __future__ import annotations


class Outbox:
    """Pending frames of one subscription, bounded.

    Args:
        limit: the most live events that may wait for the writer.
        after: the position the client has already seen (0: none).
    """

    __slots__ = (
        "_held",
        "_pending",
        "_positions",
        "last_queued",
        "limit",
        "live",
        "overflowed",
        "resume_from",
        "terminal",
    )

    def __init__(self, limit: int, after: int = 0) -> None:
        self.limit = limit
        self.live = False
        self.overflowed = False
        self.terminal = False
        self.last_queued = after
        self.resume_from = after
        self._held: list[tuple[int, bytes, bool]] = []
        self._pending: list[bytes] = []
        self._positions: list[int] = []

    def offer(self, position: int, chunk: bytes, terminal: bool = False) -> bool:
        """Queue one event; ``True`` when the writer must be woken (first pending, or overflow)."""
        if self.overflowed:
            return False
        if not self.live:
            if len(self._held) >= self.limit:
                return self._overflow()
            self._held.append((position, chunk, terminal))
            return False
        if position <= self.last_queued:
            return False
        if len(self._pending) >= self.limit:
            return self._overflow()
        self._pending.append(chunk)
        self._positions.append(position)
        self.last_queued = position
        self.terminal = self.terminal or terminal
        return len(self._pending) == 1

    def go_live(self, replayed_to: int) -> bool:
        """End of replay at ``replayed_to``; held events after it become pending."""
        self.live = True
        self.last_queued = max(self.last_queued, replayed_to)
        self.resume_from = max(self.resume_from, replayed_to)
        held, self._held = self._held, []
        wake = False
        for position, chunk, terminal in held:
            wake = self.offer(position, chunk, terminal) or wake
        return wake or self.overflowed

    def idle_after(self, position: int) -> bool:
        """Live, nothing pending, not cut off, and ``position`` not yet queued: events
        from ``position`` on may bypass the buffer (see :meth:`sent`)."""
        return (
            self.live and not self._pending and not self.overflowed and position > self.last_queued
        )

    def sent(self, position: int) -> None:
        """Events up to ``position`` went to the transport without passing through the buffer."""
        self.last_queued = position
        self.resume_from = position

    def drain(self) -> tuple[list[bytes], int]:
        """Everything pending (oldest first), and the position it ends at."""
        if not self._pending:
            return [], self.resume_from
        frames, end = self._pending, self._positions[-1]
        self._pending = []
        self._positions = []
        return frames, end

    def written(self, position: int) -> None:
        """The writer handed everything up to ``position`` to the transport."""
        self.resume_from = max(self.resume_from, position)

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._held)

    def _overflow(self) -> bool:
        self.overflowed = True
        self._pending = []
        self._positions = []
        self._held = []
        return True
