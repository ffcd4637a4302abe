"""In-memory stand-ins for the follower's adapters: pods/log, the log stream, the cursor KV.

``tests/integration/log_relay/test_adapters.py`` runs the same contract against
these and the real adapters, so the fakes cannot drift from what they stand for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flightdeck.events import Cause
from flightdeck.events.logs import LogEvent, LogFollowLost, LogLinesCaptured
from flightdeck.log_relay.domain.cursor import Cursor
from flightdeck.log_relay.domain.logreads import LogRequest, LogUnavailable
from flightdeck.log_relay.domain.publishing import Published, PublishRefused
from flightdeck.log_relay.domain.selection import ContainerKey


@dataclass
class FakeLogs:
    """pods/log: runs by restart count; every stream ends after what exists now."""

    runs: dict[int, list[tuple[datetime, bytes]]] = field(default_factory=dict)
    trimmed: int = 0  # lines of the current run no longer served (rotated away)
    requests: list[LogRequest] = field(default_factory=list)
    chunk: int = 7
    now: datetime = datetime(2026, 11, 25, 10, 0, 30, tzinfo=UTC)

    @property
    def current(self) -> int:
        return max(self.runs)

    @contextlib.asynccontextmanager
    async def open(self, key: ContainerKey, request: LogRequest) -> AsyncIterator[Any]:
        self.requests.append(request)
        run = self.current - 1 if request.previous else self.current
        if run not in self.runs:
            raise LogUnavailable(400, "previous terminated container not found")
        lines = self.runs[run][self.trimmed if run == self.current else 0 :]
        if request.since_seconds is not None:
            since = self.now - timedelta(seconds=request.since_seconds)
            lines = [(t, b) for t, b in lines if t >= since]
        if request.tail_lines is not None:
            lines = lines[len(lines) - request.tail_lines :] if request.tail_lines else []

        async def chunks() -> AsyncIterator[list[bytes]]:
            for i in range(0, len(lines), self.chunk):
                yield [b for _, b in lines[i : i + self.chunk]]
                await asyncio.sleep(0)

        yield chunks()


@dataclass
class FakePublisher:
    """JetStream's log stream: positions, and duplicates by event id."""

    events: list[tuple[str, LogEvent]] = field(default_factory=list)
    refuse: int = 0  # refuse this many line batches first
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.gate.set()

    async def publish(self, subject: str, event: LogEvent, eid: str, cause: Cause) -> Published:
        await self.gate.wait()
        if self.refuse and isinstance(event, LogLinesCaptured):
            self.refuse -= 1
            raise PublishRefused("maximum message size exceeded")
        for position, (known, _) in enumerate(self.events, start=1):
            if known == eid:
                return Published(position, duplicate=True)
        self.events.append((eid, event))
        return Published(len(self.events), duplicate=False)

    async def stored_lines(self, position: int) -> LogLinesCaptured | None:
        event = self.events[position - 1][1]
        return event if isinstance(event, LogLinesCaptured) else None

    def lines(self) -> list[str]:
        return [
            line.text for _, e in self.events if isinstance(e, LogLinesCaptured) for line in e.lines
        ]

    def lost(self) -> list[LogFollowLost]:
        return [e for _, e in self.events if isinstance(e, LogFollowLost)]


@dataclass
class FakeCursors:
    saved: dict[ContainerKey, Cursor] = field(default_factory=dict)

    async def load(self, key: ContainerKey) -> Cursor | None:
        return self.saved.get(key)

    async def save(self, key: ContainerKey, cursor: Cursor) -> None:
        self.saved[key] = cursor
