"""History then live, from a position, on one JetStream ordered consumer.

An ordered consumer replays the stream from the start position and simply
keeps going as new events arrive, so there is no seam between history and live
to stitch: no gap, no duplicate. If the server restarts or a message is missed,
nats-py recreates the consumer after the last delivered position; see
:func:`resume_after` for the one case where it does not know that position.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.client import JetStreamContext

from flightdeck.events.codec import Codec
from flightdeck.events.envelope import Recorded
from flightdeck.events.errors import EventDecodeError
from flightdeck.eventstore.jetstream.failures import translating
from flightdeck.eventstore.undecodable import Report


def resume_after(sub: JetStreamContext.PushSubscription, position: int) -> None:
    """Tell nats-py's ordered consumer ``sub`` where it starts: after ``position``.

    nats-py (2.16) recreates an ordered consumer (after a NATS restart, or missed
    heartbeats) from the last stream position it delivered, and knows none until
    its first message: one recreated before that starts from the stream's FIRST
    message, replaying the whole stream (measured here: every event again to a
    consumer that had asked for new ones only). This sets that starting point.
    It touches nats-py's private state, so nats-py is pinned in ``uv.lock``.
    """
    ordered = sub._sub._jsi
    if ordered is not None:
        ordered._sseq = max(ordered._sseq, position)


class Subscription:
    """An async iterator of recorded events after ``after``; ``position`` is the last seen.

    Args:
        nc: the connection its consumer lives on.
        codec: decodes each delivered message.
        report: told of each undecodable message, which is then skipped.
    """

    def __init__(
        self,
        nc: NATS,
        codec: Codec,
        report: Report,
        stream: str,
        subjects: list[str],
        after: int,
    ) -> None:
        self._nc = nc
        self._codec = codec
        self._report = report
        self.stream = stream
        self.subjects = subjects
        self.position = after
        self.skipped = 0  # undecodable messages passed over
        self._queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._sub: JetStreamContext.PushSubscription | None = None

    @translating
    async def start(self) -> Subscription:
        if self._sub is not None:
            return self
        config = api.ConsumerConfig(
            deliver_policy=(
                api.DeliverPolicy.BY_START_SEQUENCE if self.position else api.DeliverPolicy.ALL
            ),
            opt_start_seq=self.position + 1 if self.position else None,
            filter_subjects=self.subjects if len(self.subjects) > 1 else None,
        )

        async def enqueue(msg: Msg) -> None:
            self._queue.put_nowait(msg)

        js = self._nc.jetstream()
        self._sub = await js.subscribe(
            self.subjects[0],
            stream=self.stream,
            cb=enqueue,
            ordered_consumer=True,
            config=config,
            idle_heartbeat=2.0,
        )
        resume_after(self._sub, self.position)
        return self

    async def close(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            await sub.unsubscribe()

    async def __aenter__(self) -> Subscription:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Recorded[Any]:
        if self._sub is None:
            await self.start()
        while True:
            recorded = self._decode(await self._queue.get())
            if recorded is not None:
                return recorded

    async def next(self, timeout: float | None = None) -> Recorded[Any]:
        """The next event, waiting at most ``timeout`` seconds."""
        return await asyncio.wait_for(self.__anext__(), timeout)

    async def next_batch(
        self, max_events: int, timeout: float | None = None
    ) -> list[Recorded[Any]]:
        """The next event, plus every one already delivered behind it (up to ``max_events``).

        Live, that is usually one event; behind, it is a full batch: callers get
        batching for free without waiting for a batch to fill.
        """
        out = [await self.next(timeout)]
        while len(out) < max_events and not self._queue.empty():
            recorded = self._decode(self._queue.get_nowait())
            if recorded is not None:
                out.append(recorded)
        return out

    def _decode(self, msg: Msg) -> Recorded[Any] | None:
        """The event in ``msg``; ``None`` for a redelivery or an undecodable message."""
        position = msg.metadata.sequence.stream
        if position <= self.position:
            return None  # a redelivery after the consumer was recreated
        self.position = position
        try:
            return self._codec.decode(self.stream, msg.subject, msg.data, msg.headers, position)
        except EventDecodeError as exc:
            self.skipped += 1
            self._report(exc)
            return None
