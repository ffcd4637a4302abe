"""Time that moves only when a test says so: a clock, and the pipeline's alarms on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class ManualClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ManualTimers:
    """The pipeline's alarms (its ``Alarms`` port), fired by :meth:`fire_due` instead of
    the event loop: the same keys and times as ``Timers``, no waiting."""

    def __init__(
        self, fire: Callable[[str], Awaitable[None]], clock: Callable[[], datetime]
    ) -> None:
        self._fire = fire
        self._clock = clock
        self.armed: dict[str, datetime] = {}

    def arm(self, key: str, at: datetime | None) -> None:
        self.armed.pop(key, None)
        if at is not None:
            self.armed[key] = at

    def cancel_all(self) -> None:
        self.armed.clear()

    def __len__(self) -> int:
        return len(self.armed)

    async def fire_due(self) -> int:
        """Fire every alarm whose time has come; how many fired."""
        due = [key for key, at in self.armed.items() if at <= self._clock()]
        for key in due:
            del self.armed[key]
            await self._fire(key)
        return len(due)
