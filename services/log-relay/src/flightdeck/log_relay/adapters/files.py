"""Reading the container runtime's log files on this node (node mode), as raw CRI lines.

The same port as the pods/log adapter (``LogSource``), so the follower, its
cursor and its outbox are the ones API mode uses. One read is one container
run: its rotated files still uncompressed (oldest first), then its live
``<run>.log``, followed by polling (as Promtail and Fluent Bit's stat watcher
do). Rotation, the run's end and a file cut short are decided by
:mod:`flightdeck.log_relay.domain.cri`; this module only opens, stats and reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from flightdeck.log_relay.domain.cri import (
    FileState,
    LineSplitter,
    Step,
    latest_run,
    next_step,
    pod_directory,
    rotated_files,
    tail_start,
)
from flightdeck.log_relay.domain.logreads import LogRequest, LogStreamBroken, LogUnavailable
from flightdeck.log_relay.domain.selection import ContainerKey

CHUNK = 1 << 20
BATCH = 5000  # lines handed over at once
ALL = 1 << 62  # read to the end: the file is done (rotated, its run over) or is history


def _file_id(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


class NodeLogs:
    """Opens the CRI log files of containers under ``root`` (``/var/log/pods``).

    Args:
        root: the kubelet's pod log directory.
        poll_s: how often a file at its end is looked at again.
    """

    def __init__(self, root: Path, poll_s: float = 0.1) -> None:
        self._root = Path(root)
        self._poll = poll_s

    async def close(self) -> None:
        return None

    def root_exists(self) -> bool:
        """Whether the kubelet's pod log directory is there (mounted) at all."""
        return self._root.is_dir()

    def _container_dir(self, key: ContainerKey, pod_uid: str) -> Path:
        if pod_uid:
            found = self._root / pod_directory(key.namespace, key.pod, pod_uid) / key.container
            if found.is_dir():
                return found
        else:  # no uid known: the pod's only directory
            for pod_dir in self._root.glob(f"{key.namespace}_{key.pod}_*"):
                if (pod_dir / key.container).is_dir():
                    return pod_dir / key.container
        raise LogUnavailable(404, f"no log directory for {key} on this node")

    @contextlib.asynccontextmanager
    async def open(
        self, key: ContainerKey, request: LogRequest
    ) -> AsyncIterator[AsyncIterator[list[bytes]]]:
        """One run's log as lists of raw CRI lines (no newline).

        Raises:
            LogUnavailable: no such directory or run (not on this node, not started).
            LogStreamBroken: a file could not be read.
        """
        directory = self._container_dir(key, request.pod_uid)
        try:
            names = os.listdir(directory)
        except OSError as exc:
            raise LogUnavailable(404, f"{directory}: {exc}") from exc
        run = request.run if request.run is not None else latest_run(names)
        if request.previous and request.run is None and run is not None:
            run -= 1
        if run is None or run < 0:
            raise LogUnavailable(404, f"no log file in {directory}")
        tail = _RunTail(directory, run, request, self._poll)
        try:
            tail.start()
        except OSError as exc:
            tail.close()
            if isinstance(exc, FileNotFoundError):
                raise LogUnavailable(404, f"no log of run {run} in {directory}") from exc
            raise LogStreamBroken(repr(exc)) from exc
        try:
            yield tail.lines()
        except OSError as exc:
            raise LogStreamBroken(repr(exc)) from exc
        finally:
            tail.close()


class _RunTail:
    """The files of one container run, read in order and followed at the end."""

    def __init__(self, directory: Path, run: int, request: LogRequest, poll_s: float) -> None:
        self._dir, self._run, self._request, self._poll = directory, run, request, poll_s
        self._live = directory / f"{run}.log"
        self._fd: int | None = None
        self._offset = 0
        self._history: list[Path] = []

    def start(self) -> None:
        """Open the live file first, then list what was rotated before it (a rotation in
        between shows the open file among the rotated ones: it is skipped there)."""
        self._fd = os.open(self._live, os.O_RDONLY)
        open_id = _file_id(os.fstat(self._fd))
        for name in rotated_files(os.listdir(self._dir), self._run):
            path = self._dir / name
            with contextlib.suppress(FileNotFoundError):
                if _file_id(path.stat()) != open_id:
                    self._history.append(path)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def lines(self) -> AsyncIterator[list[bytes]]:
        history: list[bytes] = []
        for path in self._history:
            with contextlib.suppress(FileNotFoundError):  # compressed or removed meanwhile
                splitter = LineSplitter()
                history += splitter.feed(path.read_bytes())
                history += splitter.finish()
        splitter = LineSplitter()
        history += self._read_available(splitter, ALL)
        if self._request.tail_lines is not None:
            history = history[tail_start(history, self._request.tail_lines) :]
        for start in range(0, len(history), BATCH):
            yield [line for line in history[start : start + BATCH] if line]
            await asyncio.sleep(0)
        async for batch in self._follow(splitter):
            yield batch

    def _read_available(self, splitter: LineSplitter, most: int = 8 * CHUNK) -> list[bytes]:
        """What the open file holds past the offset (at most ``most`` bytes at once, so a
        writer faster than us cannot keep us here), as whole lines."""
        assert self._fd is not None
        out: list[bytes] = []
        read = 0
        while read < most and (chunk := os.read(self._fd, CHUNK)):
            read += len(chunk)
            self._offset += len(chunk)
            out += splitter.feed(chunk)
        return out

    async def _follow(self, splitter: LineSplitter) -> AsyncIterator[list[bytes]]:
        while True:
            assert self._fd is not None
            fresh = [line for line in self._read_available(splitter) if line]
            if fresh:
                for start in range(0, len(fresh), BATCH):  # the reader checks its backlog
                    yield fresh[start : start + BATCH]  # between batches
                continue
            step = next_step(self._state())
            if step is Step.WAIT:
                await asyncio.sleep(self._poll)
            elif step is Step.REWIND:
                os.lseek(self._fd, 0, os.SEEK_SET)
                self._offset, splitter = 0, LineSplitter()
            elif step is Step.SWITCH:
                rest = self._read_available(splitter, ALL) + splitter.finish()
                for start in range(0, len(rest), BATCH):
                    yield [ln for ln in rest[start : start + BATCH] if ln]
                os.close(self._fd)
                self._fd, self._offset, splitter = None, 0, LineSplitter()
                self._fd = await self._reopen()
            else:
                state = self._state()
                rest = self._read_available(splitter, ALL)
                if state.newer_run or state.pod_gone:
                    rest += splitter.finish()  # nobody writes this run any more
                rest = [ln for ln in rest if ln]
                if rest:
                    yield rest
                return

    async def _reopen(self) -> int:
        """The new live file (renamed away again before we got to it: wait for the next)."""
        while True:
            try:
                return os.open(self._live, os.O_RDONLY)
            except FileNotFoundError:
                if not self._dir.is_dir():
                    raise
                await asyncio.sleep(self._poll)

    def _state(self) -> FileState:
        assert self._fd is not None
        stat = os.fstat(self._fd)
        try:
            path_id: tuple[int, int] | None = _file_id(self._live.stat())
        except FileNotFoundError:
            path_id = None
        try:
            newest = latest_run(os.listdir(self._dir))
            pod_gone = False
        except FileNotFoundError:
            newest, pod_gone = None, True
        return FileState(
            open_id=_file_id(stat),
            open_size=stat.st_size,
            offset=self._offset,
            path_id=path_id,
            newer_run=newest is not None and newest > self._run,
            pod_gone=pod_gone,
            follow=self._request.follow,
        )
