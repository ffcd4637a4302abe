"""What both adapters do with a stored message that is not a valid event: count and report it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flightdeck.events.errors import EventDecodeError

log = logging.getLogger("flightdeck.eventstore")

Report = Callable[[EventDecodeError], None]


def log_undecodable(error: EventDecodeError) -> None:
    """The default report: one warning per skipped message."""
    log.warning("skipping undecodable event: %s", error)


class Undecodable:
    """Counts undecodable messages and hands each to ``report``; readers then skip it."""

    def __init__(self, report: Report = log_undecodable) -> None:
        self.count = 0
        self._report = report

    def __call__(self, error: EventDecodeError) -> None:
        self.count += 1
        self._report(error)
