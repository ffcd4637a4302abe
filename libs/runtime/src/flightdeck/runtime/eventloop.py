"""Every Flightdeck process runs on uvloop.

Measured here, the asyncio event loop's own bookkeeping was a large share of a
busy service's CPU (appends and fan-out are many tiny callbacks); uvloop does
the same work in C. Tests keep the standard loop, so both stay supported.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh uvloop event loop."""
    return uvloop.run(main)
