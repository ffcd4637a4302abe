"""The projector: the event streams, applied to the read model's tables.

Each projected stream has its own checkpoint (its last applied position),
written in the same transaction as the rows the events produced, so a crash at
any point neither loses nor double-applies an event. Catching up, it reads
large chunks with direct gets and applies each chunk in one transaction;
live, it follows an ordered consumer and applies whatever has arrived, which
is usually one event. If reading or writing fails (NATS restarting, the
database away) a stream's projection starts over from its checkpoint after a
growing, jittered delay (``retries.RECONNECT``), instead of ending: the read
model must outlive any outage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from flightdeck.events import Recorded, streams
from flightdeck.eventstore import EventStore
from flightdeck.readmodel import sqlrows
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projections import PROJECTIONS
from flightdeck.runtime import retries

log = structlog.get_logger(__name__)

PROJECTED = (streams.DEPLOYMENTS, streams.CLUSTER, streams.PROBES, streams.MONITORS, streams.AUDIT)
NAME = "readmodel"

Progress = Callable[[int], None]  # called with the number of events just applied


@dataclass
class StreamState:
    position: int = 0
    skipped: int = 0
    applied: int = 0
    caught_up: bool = False
    interruptions: int = 0


@dataclass
class Projector:
    """Keeps the read model in step with the streams.

    Args:
        store: where the events come from.
        database: the read model.
        streams: which streams to project (all projected ones by default).
        live_batch: most events applied in one transaction once caught up.
        catch_up_batch: most events applied in one transaction while catching up
            (bounded, so a long catch-up commits as it goes).
    """

    store: EventStore
    database: Database
    streams: Sequence[str] = PROJECTED
    live_batch: int = 500
    catch_up_batch: int = 2_000
    name: str = NAME
    state: dict[str, StreamState] = field(default_factory=dict)
    _write: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Catch up, then follow every stream live until ``stop`` is set."""
        tasks = [asyncio.create_task(self._follow(s), name=f"project {s}") for s in self.streams]
        try:
            if stop is None:
                await asyncio.gather(*tasks)
            else:
                await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def catch_up(self, progress: Progress | None = None) -> int:
        """Apply everything stored now, then return the number of events applied."""
        results = await asyncio.gather(*(self._catch_up(s, progress) for s in self.streams))
        return sum(results)

    async def lag(self) -> dict[str, int]:
        """Per stream: how many positions the read model trails the stream by."""
        out = {}
        for stream in self.streams:
            last = await self.store.stream_last_position(stream)
            async with self.database.connect() as conn:
                position, _ = await sqlrows.read_checkpoint(conn, self.name, stream)
            out[stream] = max(0, last - position)
        return out

    async def _follow(self, stream: str) -> None:
        """Project ``stream`` forever; after a failure, again from its checkpoint."""

        def interrupted(exc: Exception, delay: float) -> None:
            state = self.state.setdefault(stream, StreamState())
            state.interruptions += 1
            state.caught_up = False
            log.warning(
                "projection interrupted; resuming from the checkpoint",
                stream=stream,
                error=repr(exc),
                retry_in_s=round(delay, 2),
            )

        retrying = retries.RECONNECT.retrying(Exception, interrupted)
        async for attempt in retrying:
            with attempt:
                await self._catch_up(stream, None)
                retrying.reset()  # live: a failure from here on starts the backoff over
                await self._follow_live(stream)

    async def _follow_live(self, stream: str) -> None:
        state = self.state[stream]
        subjects = streams.SUBJECTS[stream]
        async with self.store.subscribe(subjects, after=state.position) as sub:
            seen_skips = 0
            while True:
                batch = await sub.next_batch(self.live_batch)
                await self._apply(stream, batch, sub.position, sub.skipped - seen_skips)
                seen_skips = sub.skipped

    async def _catch_up(self, stream: str, progress: Progress | None) -> int:
        async with self.database.connect() as conn:
            position, skipped = await sqlrows.read_checkpoint(conn, self.name, stream)
        state = self.state.setdefault(stream, StreamState())
        state.position, state.skipped = position, skipped
        applied_before = state.applied
        chunks: asyncio.Queue[Any] = asyncio.Queue(maxsize=2)  # read ahead while writing

        async def read() -> None:
            try:
                async for chunk in self.store.read_chunks(stream, ">", after=position):
                    await chunks.put(chunk)
            except Exception as exc:  # handed over, or the writer would wait for ever
                await chunks.put(exc)
                return
            await chunks.put(None)

        reader = asyncio.create_task(read())
        try:
            while (chunk := await chunks.get()) is not None:
                if isinstance(chunk, Exception):
                    raise chunk
                events, size = chunk.events, self.catch_up_batch
                for start in range(0, len(events), size):
                    part = events[start : start + size]
                    last = start + size >= len(events)
                    # The chunk's last position may be a skipped message: only the final
                    # part may claim it (and its skips).
                    await self._apply(
                        stream,
                        part,
                        chunk.last_position if last else part[-1].position,
                        chunk.skipped if last else 0,
                    )
                if not events:
                    await self._apply(stream, [], chunk.last_position, chunk.skipped)
                if progress is not None:
                    progress(len(events) + chunk.skipped)
            await reader
        finally:
            reader.cancel()
        state.caught_up = True
        return state.applied - applied_before

    async def _apply(
        self, stream: str, events: list[Recorded[Any]], position: int, new_skips: int
    ) -> None:
        state = self.state[stream]
        if position <= state.position:
            return
        known = [(r, PROJECTIONS.get(type(r.event))) for r in events]
        unknown = [r for r, p in known if p is None]
        for r in unknown:
            log.warning("event not projected", stream=stream, position=r.position, type=r.type)
        skipped = state.skipped + new_skips + len(unknown)
        touched = [t for r, p in known if p is not None for t in p.touches(r)]
        async with self._write, self.database.begin() as conn:
            rows = await sqlrows.load(conn, touched)
            for r, p in known:
                if p is not None:
                    p.apply(rows, r)
            await sqlrows.flush(conn, rows)
            await sqlrows.write_checkpoint(conn, self.name, stream, position, skipped)
        state.position, state.skipped = position, skipped
        state.applied += len(events) - len(unknown)


async def rebuild(
    store: EventStore, database: Database, progress: Progress | None = None
) -> tuple[int, float]:
    """Drop the read model and replay every projected stream from position 1.

    Returns:
        (events applied, seconds taken).
    """
    started = time.perf_counter()
    await database.reset()
    applied = await Projector(store, database).catch_up(progress)
    return applied, time.perf_counter() - started
