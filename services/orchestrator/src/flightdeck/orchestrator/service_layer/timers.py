"""One timer per open deployment: wake it when a deadline or retry time comes.

Timers live in memory only; the times come from the deployment's events, so
every replica (and a restarted one) arms the same ones. Two replicas firing
together is harmless: optimistic concurrency lets one of them record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import structlog

log = structlog.get_logger(__name__)

_SLACK_S = 0.005  # fire just after the deadline, never just before it


class Timers:
    def __init__(
        self, fire: Callable[[str], Awaitable[None]], clock: Callable[[], datetime]
    ) -> None:
        self._fire = fire
        self._clock = clock
        self._handles: dict[str, asyncio.TimerHandle] = {}
        self._running: set[asyncio.Task[None]] = set()

    def arm(self, key: str, at: datetime | None) -> None:
        """Wake ``key`` at ``at`` (replacing its previous timer); ``None`` disarms it."""
        old = self._handles.pop(key, None)
        if old is not None:
            old.cancel()
        if at is None:
            return
        delay = max(0.0, (at - self._clock()).total_seconds()) + _SLACK_S
        self._handles[key] = asyncio.get_running_loop().call_later(delay, self._wake, key)

    def __len__(self) -> int:
        return len(self._handles)

    def _wake(self, key: str) -> None:
        self._handles.pop(key, None)
        task = asyncio.create_task(self._run(key))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, key: str) -> None:
        try:
            await self._fire(key)
        except Exception:
            log.exception("timer failed", key=key)

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
        for task in self._running:
            task.cancel()
