"""Waiting for something to become true, without timed assertions."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    check: Callable[[], Awaitable[Any] | Any], *, within: float = 45.0, what: str = ""
) -> Any:
    """Call ``check`` (sync or async) until it returns something truthy, and return that;
    fail (naming ``what`` and the last answer) after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        last = check()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(
                f"gave up after {within}s waiting for {what or check}; last: {last!r}"
            )
        await asyncio.sleep(0.05)
