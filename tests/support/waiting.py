"""Waiting for something to become true, without timed assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 45.0, what: str = ""
) -> Any:
    """Poll ``check`` until it returns something truthy, and return that; fail (naming
    ``what`` and the last answer) after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not (last := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"gave up after {within}s waiting for {what or check}; last: {last!r}"
            )
        await asyncio.sleep(0.05)
    return last
