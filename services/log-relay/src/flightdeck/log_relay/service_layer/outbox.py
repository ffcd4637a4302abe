"""What a container has read and not yet published, and the task that publishes it.

The follower's reader queues lines (and markers: a new container run, a gap)
here; the outbox takes batches off the front, appends them under deterministic
ids within the relay-wide in-flight window, and saves the cursor after each
acknowledged one. A batch JetStream already had (sent again after a crash) is
read back, so exactly the lines it held are skipped. The queue is bounded: a
full one makes the reader wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from flightdeck.events import Cause, subjects
from flightdeck.events.logs import LogFollowLost, LogLine, LogLinesCaptured
from flightdeck.eventstore import BucketUnavailable
from flightdeck.log_relay.domain.batching import (
    BatchPolicy,
    Gap,
    Pending,
    RunStarted,
    due,
    event_id,
    take,
)
from flightdeck.log_relay.domain.cursor import Cursor, advance, advance_all
from flightdeck.log_relay.domain.publishing import PublishRefused
from flightdeck.log_relay.domain.selection import Target
from flightdeck.log_relay.service_layer.ports import CursorStore, LogSink

NATS_TROUBLE = (BucketUnavailable, TimeoutError, OSError)
"""A bucket that did not answer: the write may be lost, the caller carries on."""

log = structlog.get_logger(__name__)

ACTOR = "service:log-relay"
_NO_CURSOR = Cursor(time=datetime(1970, 1, 1, tzinfo=UTC), count=0)


@dataclass
class FollowStats:
    """Counters shared by every follower of one relay (reported by the relay)."""

    lines_read: int = 0
    lines_published: int = 0
    events_published: int = 0
    duplicates: int = 0
    lines_dropped: int = 0
    gaps: int = 0
    stalls: int = 0
    attaches: int = 0


class Outbox:
    """One container's queue towards ``FD_LOGS``.

    Args:
        target: the follower's current view of its container (node, app, pod uid).
        cursors, publisher: the adapters.
        window: the relay-wide bound on appends awaiting acknowledgement.
        policy: batch bounds and linger.
        max_backlog: queued items at which the reader must wait.
        stats: counters to add to.
    """

    def __init__(
        self,
        target: Callable[[], Target],
        *,
        cursors: CursorStore,
        publisher: LogSink,
        window: asyncio.Semaphore,
        policy: BatchPolicy,
        max_backlog: int,
        stats: FollowStats,
    ) -> None:
        first = target()
        self.key = first.key
        self._target = target
        self._cursors, self._publisher, self._window = cursors, publisher, window
        self._policy, self._max_backlog, self._stats = policy, max_backlog, stats
        self._subject = subjects.pod_logs(first.key.namespace, first.app, first.key.pod)
        self._cause = Cause(
            actor=ACTOR, correlation_id=first.correlation_id or first.pod_uid or str(first.key)
        )
        self._pending: deque[Pending] = deque()
        self._more = asyncio.Event()
        self._space = asyncio.Event()
        self._idle = asyncio.Event()
        self._published: Cursor | None = None  # the end of what JetStream acknowledged
        self._run = first.restart_count  # the run of the lines being published
        self._skip = 0  # lines an earlier (duplicate) event already holds
        self._oldest_at = 0.0
        self._sending = False
        self._draining = False

    @property
    def backlog(self) -> int:
        return len(self._pending)

    def resume_after(self, cursor: Cursor | None) -> None:
        """Where the stored log of this container ends (the cursor loaded at start)."""
        self._published = cursor
        if cursor is not None:
            self._run = cursor.restarts

    # ------------------------------------------------------------- the reader side

    def add_lines(self, lines: list[LogLine]) -> None:
        self._mark_arrival()
        self._pending.extend(lines)
        self._more.set()

    def add(self, item: RunStarted | Gap) -> None:
        if isinstance(item, Gap):
            self._stats.gaps += 1
        self._mark_arrival()
        self._pending.append(item)
        self._more.set()

    def _mark_arrival(self) -> None:
        if not self._pending:
            self._oldest_at = asyncio.get_running_loop().time()

    async def room(self) -> None:
        """Backpressure: wait while the queue is at its bound (the node keeps the log)."""
        if len(self._pending) < self._max_backlog:
            return
        self._stats.stalls += 1
        log.warning("falling behind: reading paused", container=str(self.key), backlog=self.backlog)
        while len(self._pending) >= self._max_backlog // 2:
            self._space.clear()
            await self._space.wait()

    # -------------------------------------------------------------- publishing

    async def drain(self) -> None:
        """Publish everything queued now, without lingering; return when it is out."""
        self._draining = True
        self._more.set()
        while self._pending or self._sending:
            self._idle.clear()
            await self._idle.wait()

    async def run(self) -> None:
        """Publish batches off the queue until cancelled."""
        loop = asyncio.get_running_loop()
        policy = self._policy
        while True:
            while not self._pending:
                self._idle.set()
                self._more.clear()
                await self._more.wait()
            while not self._draining and not due(
                policy, len(self._pending), loop.time() - self._oldest_at
            ):
                self._more.clear()
                wait = policy.linger_s - (loop.time() - self._oldest_at)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._more.wait(), max(wait, 0.001))
            item = take(self._pending, policy)
            self._oldest_at = loop.time()
            if len(self._pending) < self._max_backlog // 2:
                self._space.set()
            self._sending = True
            try:
                await self._send(item)
            finally:
                self._sending = False

    async def _send(self, item: list[LogLine] | RunStarted | Gap) -> None:
        if isinstance(item, RunStarted):
            self._run = item.restarts
            return
        if isinstance(item, Gap):
            await self._send_lost(item)
            return
        lines = self._skip_covered(item)
        if not lines:
            await self._save_cursor()
            return
        first = advance(self._published, lines[0].time, self._run, self._target().pod_uid)
        event = LogLinesCaptured(
            namespace=self.key.namespace,
            pod=self.key.pod,
            container=self.key.container,
            node=self._target().node,
            app=self._target().app,
            lines=lines,
            restart_count=self._run,
        )
        eid = event_id(self.key.namespace, self.key.pod, self.key.container, first)
        try:
            async with self._window:
                result = await self._publisher.publish(self._subject, event, eid, self._cause)
        except PublishRefused as exc:
            await self._drop(lines, str(exc))
            return
        if result.duplicate:
            lines = await self._covered_by_duplicate(result.position, lines)
        self._mark_published(lines)
        self._stats.events_published += 1
        await self._save_cursor()

    def _skip_covered(self, lines: list[LogLine]) -> list[LogLine]:
        """Drop the lines an earlier duplicate event already holds."""
        if not self._skip:
            return lines
        covered, rest = lines[: self._skip], lines[self._skip :]
        self._skip -= len(covered)
        self._mark_published(covered, count=False)
        return rest

    async def _covered_by_duplicate(self, position: int, lines: list[LogLine]) -> list[LogLine]:
        """JetStream already had an event with this id: it starts at our first line but may
        hold fewer or more lines. Publish the rest anew; skip what it holds beyond ours."""
        self._stats.duplicates += 1
        stored = await self._publisher.stored_lines(position)
        held = len(stored.lines) if stored is not None else len(lines)
        if held < len(lines):
            self._pending.extendleft(reversed(lines[held:]))
            self._more.set()
            return lines[:held]
        self._skip = held - len(lines)
        return lines

    def _mark_published(self, lines: list[LogLine], *, count: bool = True) -> None:
        uid = self._target().pod_uid
        self._published = advance_all(self._published, (ln.time for ln in lines), self._run, uid)
        if count:
            self._stats.lines_published += len(lines)

    async def _drop(self, lines: list[LogLine], reason: str) -> None:
        """JetStream refused the batch itself: say so in the stream, and move on."""
        log.error("log batch refused, dropping it", container=str(self.key), error=reason)
        self._stats.lines_dropped += len(lines)
        self._mark_published(lines, count=False)
        await self._send_lost(
            Gap(
                reason=f"refused by JetStream: {reason}",
                dropped_lines=len(lines),
                since=lines[0].time,
                until=lines[-1].time,
            )
        )

    async def _send_lost(self, gap: Gap) -> None:
        lost = LogFollowLost(
            namespace=self.key.namespace,
            pod=self.key.pod,
            container=self.key.container,
            dropped_lines=gap.dropped_lines,
            reason=gap.reason,
            app=self._target().app,
            node=self._target().node,
            since=gap.since,
            until=gap.until,
        )
        at = self._published or _NO_CURSOR
        kind = f"lost\0{gap.reason}"
        eid = event_id(self.key.namespace, self.key.pod, self.key.container, at, kind=kind)
        try:
            async with self._window:
                await self._publisher.publish(self._subject, lost, eid, self._cause)
        except PublishRefused as exc:
            log.error("could not record lost lines", container=str(self.key), error=str(exc))
        await self._save_cursor()

    async def _save_cursor(self) -> None:
        if self._published is None:
            return
        try:
            await self._cursors.save(self.key, self._published)
        except NATS_TROUBLE as exc:
            log.warning("cursor not saved", container=str(self.key), error=repr(exc))
