"""What the simulated containers print, and the pods/log API's view of it.

Each container run has a bounded buffer of lines (stdout and stderr mixed, as
the container runtime keeps them); a restart starts a new run and keeps the
last one for ``previous=true``. Followers get every line written after they
attached, batched per wake-up so a fast writer costs one chunk, not one per line.
With a node (:mod:`flightdeck.sandbox.nodefiles`), every line is also written to
the run's CRI log file, flushed once per simulation step.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import datetime

from flightdeck.sandbox import clock
from flightdeck.sandbox.nodefiles import ContainerFile, NodeFiles

Key = tuple[str, str, str]  # namespace, pod, container


@dataclass(frozen=True, slots=True)
class LogLine:
    at: datetime
    stream: str  # "stdout" or "stderr"
    text: str


@dataclass(eq=False)
class Follower:
    pending: list[LogLine] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    ended: bool = False


class ContainerLog:
    """One run of one container: its lines and who is following them."""

    def __init__(self, limit: int, file: ContainerFile | None = None) -> None:
        self.lines: deque[LogLine] = deque(maxlen=max(1, limit))
        self.followers: set[Follower] = set()
        self.ended = False
        self.file = file

    def write(self, stream: str, text: str, at: datetime | None = None) -> None:
        at = at or clock.now()
        if self.lines and at < self.lines[-1].at:
            at = self.lines[-1].at  # a runtime stamps lines as it receives them: never back
        line = LogLine(at, stream, text)
        self.lines.append(line)
        if self.file is not None:
            self.file.write(line.at, stream, text)
        for follower in self.followers:
            follower.pending.append(line)
            follower.wake.set()

    def end(self) -> None:
        """The container stopped (or its pod is gone): following streams finish."""
        self.ended = True
        if self.file is not None:
            self.file.close()
        for follower in self.followers:
            follower.ended = True
            follower.wake.set()

    def attach(self) -> tuple[list[LogLine], Follower]:
        """The lines so far and a follower for the rest, with nothing lost in between."""
        follower = Follower(ended=self.ended)
        self.followers.add(follower)
        return list(self.lines), follower

    def detach(self, follower: Follower) -> None:
        self.followers.discard(follower)


class PodLogs:
    """Every container's current and previous run, by namespace, pod and container."""

    def __init__(self, limit: int = 5000, node: NodeFiles | None = None) -> None:
        self._limit = limit
        self._current: dict[Key, ContainerLog] = {}
        self._previous: dict[Key, ContainerLog] = {}
        self.node = node

    def start(self, key: Key, uid: str = "", run: int = 0) -> ContainerLog:
        """A new run (restart count ``run``) of a container of pod ``uid``; the one
        before becomes ``previous``."""
        old = self._current.get(key)
        if old is not None:
            old.end()
            self._previous[key] = old
        file = self.node.open(key[0], key[1], uid, key[2], run) if self.node and uid else None
        log = ContainerLog(self._limit, file)
        self._current[key] = log
        return log

    def flush(self) -> None:
        """Write the runs' buffered lines to their files (and remove deleted pods' logs)."""
        if self.node is None:
            return
        for log in self._current.values():
            if log.file is not None:
                log.file.flush()
        self.node.remove_due()

    def current(self, key: Key) -> ContainerLog | None:
        return self._current.get(key)

    def previous(self, key: Key) -> ContainerLog | None:
        return self._previous.get(key)

    def end(self, key: Key) -> None:
        if (log := self._current.get(key)) is not None:
            log.end()

    def close_all(self) -> None:
        """End every following stream (the sandbox is stopping)."""
        for log in [*self._current.values(), *self._previous.values()]:
            log.end()

    def forget(self, namespace: str, pod: str) -> None:
        for store in (self._current, self._previous):
            for key in [k for k in store if k[:2] == (namespace, pod)]:
                store.pop(key).end()
        if self.node is not None:
            self.node.forget(namespace, pod)


@dataclass(frozen=True)
class LogQuery:
    """The pods/log query parameters that shape the output."""

    follow: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    since: datetime | None = None
    limit_bytes: int | None = None
    stream: str | None = None  # "Stdout", "Stderr" or None for both


def select(lines: list[LogLine], query: LogQuery) -> list[LogLine]:
    """Filter by time and stream, then keep the last ``tail_lines``."""
    picked = [
        line
        for line in lines
        if (query.since is None or line.at >= query.since)
        and (query.stream is None or line.stream == query.stream.lower())
    ]
    if query.tail_lines is not None and query.tail_lines >= 0:
        picked = picked[len(picked) - query.tail_lines :] if query.tail_lines else []
    return picked


def render(lines: list[LogLine], query: LogQuery) -> bytes:
    if query.timestamps:
        return "".join(f"{clock.rfc3339_nano(line.at)} {line.text}\n" for line in lines).encode()
    return "".join(f"{line.text}\n" for line in lines).encode()


async def read(log: ContainerLog, query: LogQuery) -> AsyncGenerator[bytes, None]:
    """The pods/log body: the selected lines, then (when following) new ones as they come."""
    history, follower = log.attach()
    budget = query.limit_bytes
    try:
        batch = select(history, query)
        while True:
            wanted = [x for x in batch if query.stream is None or x.stream == query.stream.lower()]
            chunk = render(wanted, query)
            if budget is not None:
                chunk, budget = chunk[:budget], budget - len(chunk)
            if chunk:
                yield chunk
            if not query.follow or (budget is not None and budget <= 0):
                return
            if follower.ended and not follower.pending:
                return
            await follower.wake.wait()
            follower.wake.clear()
            batch, follower.pending = follower.pending, []
    finally:
        log.detach(follower)
