"""Following one container: read its log, publish it in order, remember where it ends.

Two tasks per container, joined by a bounded queue (:class:`~.outbox.Outbox`):

- the **reader** (here) attaches to pods/log (``follow``, ``timestamps``), or in
  node mode to the run's CRI log files (ADR 0025), parses each line, drops what
  the cursor already covers, and queues the rest.
  When the stream ends it waits for a reason to attach again (the container
  restarted, or still runs and the stream merely broke). It pauses when the
  queue is full: the node keeps the log, so nothing is lost by reading later.
- the **outbox** publishes batches off the queue and saves the cursor after
  each acknowledged one.

Only the lease holder runs a follower; a restarted or replacing one resumes
from the saved cursor.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from flightdeck.events.logs import LogLine
from flightdeck.log_relay.domain.batching import BatchPolicy, Gap, RunStarted
from flightdeck.log_relay.domain.cursor import Cursor, ResumeFilter, advance_all, since_seconds
from flightdeck.log_relay.domain.lines import LineParser
from flightdeck.log_relay.domain.logreads import STREAM_ERRORS, LogRequest, LogUnavailable
from flightdeck.log_relay.domain.selection import Target
from flightdeck.log_relay.service_layer.outbox import FollowStats, Outbox
from flightdeck.log_relay.service_layer.ports import CursorStore, LineReader, LogSink, LogSource

__all__ = ["ContainerFollower", "FollowConfig", "FollowStats"]

log = structlog.get_logger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class FollowConfig:
    """How followers read and batch.

    ``make_parser`` turns one read's raw lines into lines: the pods/log API's
    ``LineParser`` (stream inferred) by default, ``CriLineParser`` in node mode
    (the runtime's files say the stream). A fresh one per read, so fragments of
    one read never join another's.
    """

    policy: BatchPolicy
    max_backlog_lines: int = 20_000
    reconnect_s: float = 5.0
    finish_timeout_s: float = 60.0
    max_line_bytes: int = 32_768
    make_parser: Callable[[int], LineReader] = LineParser


class ContainerFollower:
    """Follows one container for as long as this replica holds its lease.

    Args:
        target: the container and what the latest pod observation says about it.
        logs, cursors, publisher: the adapters.
        window: the relay-wide bound on appends awaiting acknowledgement.
        config: batching, backlog and timing.
        stats: counters to add to.
        clock: wall-clock time (for ``sinceSeconds``).
    """

    def __init__(
        self,
        target: Target,
        *,
        logs: LogSource,
        cursors: CursorStore,
        publisher: LogSink,
        window: asyncio.Semaphore,
        config: FollowConfig,
        stats: FollowStats,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.target = target
        self.key = target.key
        self._logs, self._cursors = logs, cursors
        self._config, self._stats, self._clock = config, stats, clock
        self._out = Outbox(
            lambda: self.target,
            cursors=cursors,
            publisher=publisher,
            window=window,
            policy=config.policy,
            max_backlog=config.max_backlog_lines,
            stats=stats,
        )
        self._changed = asyncio.Event()
        self._generation = 0
        self._read: Cursor | None = None  # the end of what was queued
        self._label: int | None = None  # the run queued lines come from
        self._attached = False
        self._caught_up = -1  # the highest restart count whose run before was read
        self._finishing = False
        self._reader: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------- control

    @property
    def backlog(self) -> int:
        return self._out.backlog

    def observe(self, target: Target) -> None:
        """The pod was observed again (restarts, running, node…)."""
        self.target = target
        self._generation += 1
        self._changed.set()

    def finish(self) -> None:
        """The pod is gone: read what its stream still delivers, publish it, then end."""
        if self._finishing:
            return
        self._finishing = True
        self._changed.set()
        self._limit_finish()

    def _limit_finish(self) -> None:
        """A gone pod's stream may deliver for ``finish_timeout_s`` more, no longer."""
        if self._finishing and self._reader is not None:
            asyncio.get_running_loop().call_later(
                self._config.finish_timeout_s, self._reader.cancel
            )

    def stop(self) -> None:
        """Stop reading now; what was read is still published before ``run`` returns."""
        if self._reader is not None:
            self._reader.cancel()

    async def run(self) -> None:
        """Follow until finished or stopped (cancel the task to abandon pending lines)."""
        cursor = await self._cursors.load(self.key)
        if cursor is not None and cursor.pod_uid and cursor.pod_uid != self.target.pod_uid:
            cursor = None  # a new pod that reuses an old name
        self._read = cursor
        self._out.resume_after(cursor)
        publisher = asyncio.create_task(self._out.run(), name=f"publish {self.key}")
        self._reader = asyncio.create_task(self._read_loop(), name=f"read {self.key}")
        self._limit_finish()
        try:
            await asyncio.wait({self._reader, publisher}, return_when=asyncio.FIRST_COMPLETED)
            if publisher.done():
                publisher.result()  # a failed publisher is a bug: let it surface
            drained = asyncio.create_task(self._out.drain())
            await asyncio.wait({drained, publisher}, return_when=asyncio.FIRST_COMPLETED)
            if not drained.done():
                drained.cancel()
                publisher.result()
        finally:
            for task in (self._reader, publisher):
                task.cancel()
            await asyncio.gather(self._reader, publisher, return_exceptions=True)

    # ----------------------------------------------------------------- reading

    async def _read_loop(self) -> None:
        first = True
        while not self._finishing or first:
            first = False
            target, seen = self.target, self._generation
            if not target.has_log:
                await self._pause(seen, None)
                continue
            await self._catch_up_previous(target)
            ended = await self._attach(target)
            if self._finishing:
                return
            if ended == "broken":  # the container runs on: resume soon, whatever happens
                await asyncio.sleep(min(1.0, self._config.reconnect_s))
                continue
            running = self.target.running or ended == "unavailable"
            await self._pause(seen, self._config.reconnect_s if running else None)

    async def _attach(self, target: Target) -> str:
        """Follow the current run until its stream ends; say how it ended."""
        cursor = self._read
        run, uid = target.restart_count, target.pod_uid
        if cursor is None:
            request = LogRequest(tail_lines=target.tail_lines, pod_uid=uid, run=run)
        else:
            since = since_seconds(cursor.time, self._clock())
            request = LogRequest(since_seconds=since, pod_uid=uid, run=run)
        same_run = cursor is not None and cursor.restarts == target.restart_count
        self._stats.attaches += 1
        try:
            async with self._logs.open(self.key, request) as chunks:
                self._attached = True
                self._label_run(target.restart_count)
                await self._consume(chunks, ResumeFilter(cursor), check_gap=same_run)
        except LogUnavailable as exc:
            log.debug("log not available", container=str(self.key), error=str(exc))
            return "unavailable"
        except STREAM_ERRORS as exc:
            log.info("log stream broke, resuming", container=str(self.key), error=repr(exc))
            return "broken"
        return "ended"

    async def _catch_up_previous(self, target: Target) -> None:
        """After restarts we did not follow live, first relay the rest of the run before
        (all of it for a new pod that restarted before we first attached)."""
        cursor, now = self._read, self._clock()
        if target.restart_count == 0 or target.restart_count <= self._caught_up:
            return
        self._caught_up = target.restart_count
        if cursor is not None:
            if target.restart_count <= cursor.restarts:
                return
            missed = target.restart_count - cursor.restarts - 1
            request = LogRequest(
                follow=False,
                previous=True,
                since_seconds=since_seconds(cursor.time, now),
                pod_uid=target.pod_uid,
                run=target.restart_count - 1,
            )
        elif target.tail_lines is None and not self._attached:
            missed = target.restart_count - 1
            request = LogRequest(
                follow=False, previous=True, pod_uid=target.pod_uid, run=target.restart_count - 1
            )
        else:
            return
        if missed > 0:
            self._out.add(
                Gap(
                    reason=f"the container restarted {missed} more time(s) while it was not "
                    "followed; lines of those runs may be lost",
                    since=cursor.time if cursor is not None else None,
                )
            )
        try:
            async with self._logs.open(self.key, request) as chunks:
                self._label_run(target.restart_count - 1)
                await self._consume(chunks, ResumeFilter(cursor), check_gap=False)
        except (LogUnavailable, *STREAM_ERRORS) as exc:
            log.debug("previous log not available", container=str(self.key), error=repr(exc))

    async def _consume(
        self, chunks: AsyncIterator[list[bytes]], gate: ResumeFilter, *, check_gap: bool
    ) -> None:
        parse, admit = self._config.make_parser(self._config.max_line_bytes).parse, gate.admit
        async for raw_lines in chunks:
            now = self._clock()
            fresh: list[LogLine] = []
            for raw in raw_lines:
                line = parse(raw, now)
                if line is None:
                    continue  # a fragment: its line comes with the record that closes it
                if admit(line.time):
                    if check_gap:
                        check_gap = False
                        if gate.skipped == 0 and self._read is not None:
                            self._out.add(
                                Gap(
                                    reason="the log no longer reaches back to where the relay "
                                    "left off (rotated or trimmed); lines between may be lost",
                                    since=self._read.time,
                                    until=line.time,
                                )
                            )
                    fresh.append(line)
            self._stats.lines_read += len(raw_lines)
            if fresh:
                self._queue_lines(fresh)
            await self._out.room()

    def _label_run(self, restarts: int) -> None:
        if self._label != restarts:
            self._label = restarts
            self._out.add(RunStarted(restarts))

    def _queue_lines(self, lines: list[LogLine]) -> None:
        assert self._label is not None
        uid = self.target.pod_uid
        self._read = advance_all(self._read, (line.time for line in lines), self._label, uid)
        self._out.add_lines(lines)

    async def _pause(self, seen: int, timeout: float | None) -> None:
        """Until the pod is observed again (or ``timeout``), unless it already was."""
        while self._generation == seen and not self._finishing:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                return
