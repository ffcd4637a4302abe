"""Injected failures for tests: slow or failing API calls (watch drops and
compaction act on the store directly; see :mod:`flightdeck.sandbox.admin`).

A fault lasts for a number of calls, for a period, or both (whichever ends
first); with neither it lasts until cleared.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class _Window:
    value: float = 0.0
    remaining: int | None = None
    until: float | None = None

    def active(self) -> bool:
        if not self.value:
            return False
        if self.until is not None and time.monotonic() >= self.until:
            self.value = 0.0
            return False
        return self.remaining is None or self.remaining > 0

    def take(self) -> float:
        """The fault's value for one call, counting the call."""
        if not self.active():
            return 0.0
        if self.remaining is not None:
            self.remaining -= 1
        return self.value


def _window(value: float, count: int | None, for_s: float | None) -> _Window:
    return _Window(value, count, time.monotonic() + for_s if for_s is not None else None)


class Faults:
    """What the next API calls suffer: a delay, a failure status, or both."""

    def __init__(self) -> None:
        self._fail = _Window()
        self._delay = _Window()

    def fail_api(
        self, status: int = 500, count: int | None = None, for_s: float | None = None
    ) -> None:
        self._fail = _window(float(status), count, for_s)

    def delay_api(
        self, seconds: float, count: int | None = None, for_s: float | None = None
    ) -> None:
        self._delay = _window(seconds, count, for_s)

    def clear(self) -> None:
        self._fail, self._delay = _Window(), _Window()

    def next_delay(self) -> float:
        return self._delay.take()

    def next_failure(self) -> int | None:
        status = int(self._fail.take())
        return status or None
