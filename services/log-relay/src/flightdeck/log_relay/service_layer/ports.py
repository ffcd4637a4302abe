"""What the relay's service layer needs of the outside world, each as a small Protocol.

The adapters (NATS KV buckets, the event store, pods/log) satisfy them
structurally; :mod:`flightdeck.log_relay.bootstrap` builds the adapters and
hands each part only what it uses, so a test can hand it fakes of exactly these.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from flightdeck.events import Cause, Recorded
from flightdeck.events.logs import LogEvent, LogLine, LogLinesCaptured
from flightdeck.log_relay.domain.cursor import Cursor
from flightdeck.log_relay.domain.logreads import LogRequest
from flightdeck.log_relay.domain.publishing import Published
from flightdeck.log_relay.domain.selection import ContainerKey, FollowRule

RuleChanged = Callable[[tuple[str, str], FollowRule | None], None]


class PodSource(Protocol):
    """Pods as the k8s-watcher saw them: a snapshot, then every change."""

    async def snapshot(self) -> tuple[list[Recorded[Any]], int]: ...

    def changes(self, after: int) -> AbstractAsyncContextManager[AsyncIterator[Recorded[Any]]]: ...


class ContainerLeases(Protocol):
    """One replica follows a container: the lease holder."""

    async def acquire(self, key: ContainerKey) -> bool: ...

    async def renew(self, key: ContainerKey) -> bool | None:
        """``True`` renewed, ``False`` lost, ``None`` unknown (NATS did not answer)."""
        ...

    async def release(self, key: ContainerKey) -> None: ...

    def forget(self, key: ContainerKey) -> None: ...


class Membership(Protocol):
    """The live relay replicas, as this one sees them."""

    me: str

    async def beat(self, full: bool) -> None: ...

    async def leave(self) -> None: ...

    async def watch(self, ready: asyncio.Event) -> None: ...

    def alive(self, *, settled_s: float = 0.0) -> list[str]: ...


class CursorStore(Protocol):
    """Where each container's relayed log ends."""

    async def load(self, key: ContainerKey) -> Cursor | None: ...

    async def save(self, key: ContainerKey, cursor: Cursor) -> None: ...

    async def delete(self, key: ContainerKey) -> None: ...


class RuleBook(Protocol):
    """The standing follow orders."""

    async def put(self, rule: FollowRule) -> None: ...

    async def watch(self, changed: RuleChanged, ready: asyncio.Event) -> None: ...


class LineReader(Protocol):
    """Raw lines of one read into log lines (``None`` while a line is incomplete)."""

    def parse(self, raw: bytes, fallback: datetime) -> LogLine | None: ...


class LogSource(Protocol):
    def open(
        self, key: ContainerKey, request: LogRequest
    ) -> AbstractAsyncContextManager[AsyncIterator[list[bytes]]]:
        """The log of ``key`` as lists of lines, one list per chunk read."""
        ...


class LogSink(Protocol):
    async def publish(
        self, subject: str, event: LogEvent, event_id: str, cause: Cause
    ) -> Published: ...

    async def stored_lines(self, position: int) -> LogLinesCaptured | None: ...
