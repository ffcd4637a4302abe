"""What the prober's service layer needs of the outside world, as a small Protocol.

The event store is the shared port of ``flightdeck.events``; the HTTP check is
this one, satisfied by :class:`~flightdeck.prober.adapters.http.HttpProber`.
"""

from __future__ import annotations

from typing import Protocol

from flightdeck.prober.domain.checks import Result, Target


class Checker(Protocol):
    async def check(self, target: Target) -> Result:
        """One HTTP check of ``target``; never raises (an unreachable target is a result)."""
        ...
