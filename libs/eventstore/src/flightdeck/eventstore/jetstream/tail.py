"""A stream's new events, decoded in the consumer's callback: the gateway fan-out's feed.

One ordered push consumer per stream, shared by every client of the gateway
(STACK-NOTES: far cheaper than a consumer per client). Its callback runs for
each message nats-py hands over, with no queue and no task hop; a subject
nobody wants is never decoded. After a NATS restart nats-py recreates the
consumer after the last position delivered (:func:`resume_after`), so clients
get neither a gap nor the history again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.client import JetStreamContext

from flightdeck.events import streams
from flightdeck.events.codec import Codec
from flightdeck.events.errors import EventDecodeError
from flightdeck.eventstore.jetstream.subscription import resume_after
from flightdeck.eventstore.port import Deliver
from flightdeck.eventstore.undecodable import Report


class Tail:
    """A running feed; :attr:`position` is the last message its consumer delivered."""

    def __init__(self, stream: str, position: int) -> None:
        self.stream = stream
        self._position = position
        self._sub: JetStreamContext.PushSubscription | None = None

    @property
    def position(self) -> int:
        return self._position

    async def close(self) -> None:
        if self._sub is not None:
            sub, self._sub = self._sub, None
            with contextlib.suppress(nats.errors.Error, OSError):
                await sub.unsubscribe()


async def start_tail(
    nc: NATS,
    codec: Codec,
    report: Report,
    stream: str,
    after: int,
    deliver: Deliver,
    wanted: Callable[[str], bool] | None,
) -> Tail:
    """Follow every subject of ``stream`` after position ``after``."""
    tail = Tail(stream, after)
    decode = codec.decode

    async def on_message(msg: Msg) -> None:
        position = msg.metadata.sequence.stream
        tail._position = position
        subject = msg.subject
        if wanted is not None and not wanted(subject):
            return
        try:
            recorded = decode(stream, subject, msg.data, msg.headers, position)
        except EventDecodeError as exc:
            report(exc)
            return
        deliver(recorded)

    filters = list(streams.SUBJECTS[stream])
    sub = await nc.jetstream().subscribe(
        filters[0],
        stream=stream,
        cb=on_message,
        ordered_consumer=True,
        idle_heartbeat=5.0,
        config=api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=after + 1,
            filter_subjects=filters if len(filters) > 1 else None,
        ),
        pending_msgs_limit=1_000_000,
        pending_bytes_limit=1 << 30,
    )
    resume_after(sub, after)
    tail._sub = sub
    return tail
