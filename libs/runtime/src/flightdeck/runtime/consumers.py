"""Durable JetStream consumers on FastStream: the one way a Flightdeck service consumes work.

A consumer is a durable *pull* consumer shared by every replica of a service
(JetStream hands each message to one of them), with explicit acks:

- the handler returned: **ack**;
- the handler raised: **nak with a delay** (``retries.REDELIVER``: growing
  per delivery, jittered), so a transient failure (NATS or Kubernetes briefly
  away) is retried later;
- the message cannot be decoded, or its handler failed ``max_deliver`` times:
  it is a **poison message**: recorded on ``fd.dlq.<service>`` with the error
  (:class:`~flightdeck.events.deadletters.MessageDeadLettered`), then
  **terminated**, and the consumer moves on.

While a handler runs, the message is kept alive with ``in_progress`` every
third of ``ack_wait``, so a handler may hold a message for as long as its work
lasts (the ecr-poller holds a watch until the image appears): if the process
dies, JetStream redelivers the message to another replica after ``ack_wait``.
The message is the lease.

Each consumer is a FastStream subscriber (ADR 0019) of one :class:`NatsBroker`
per process, which runs on the process's own connection (its credentials, TLS
and ``_INBOX.<user>`` replies, ADR 0013) rather than opening a second one:

- :func:`decoder` decodes the CloudEvents envelope with our codec into
  :class:`~flightdeck.events.Recorded`, so handlers see the correlation and
  causation ids and the stream position of what they react to;
- :class:`Lease` (a FastStream middleware) is the acknowledgement policy
  above: ack, nak with delay, ``in_progress`` keep-alive, and dead letters
  written through the event-store port;
- :class:`_LeasedPull` keeps FastStream's subscriber but pulls the way we
  measured (ADR 0006): one request waits for the next message and returns the
  moment it arrives, the follow-up takes only what is already there, and no
  more messages are taken than there are free handler slots (a message
  waiting in a buffer would age without its keep-alive).

The services declare their durables in :mod:`flightdeck.runtime.contract`;
their bootstrap turns each into a :class:`ConsumerSpec` with its handler.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import nats.errors
import structlog
from faststream import AckPolicy, BaseMiddleware, StreamMessage
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.subscriber.usecases.stream_pull_subscriber import PullStreamSubscriber
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError

from flightdeck.events import Cause, Codec, EventDecodeError, Recorded, subjects
from flightdeck.events.deadletters import MessageDeadLettered
from flightdeck.eventstore import EventStore
from flightdeck.runtime import retries
from flightdeck.runtime.contract import Durable

log = structlog.get_logger(__name__)

Handler = Callable[[Recorded[Any]], Awaitable[None]]

_MAX_ERROR_TEXT = 2000
# A dead letter must fit in a message whatever it copies (an invalid byte becomes a
# 3-byte replacement character): larger payloads are kept in part, with their size.
_MAX_PAYLOAD_KEPT = 16 * 1024
_MAX_HEADER_KEPT = 1024
_WAIT_S = 5.0  # one pull request waits this long for the next message
_NO_WAIT_S = 0.01  # and the follow-up takes only what is already there


@dataclass(frozen=True)
class ConsumerSpec:
    """One durable consumer and the handler its messages go to.

    Args:
        durable: the consumer's name, shared by every replica (``<service>-<what>``).
        stream: the stream it reads.
        subjects: the subjects it takes from that stream (several allowed).
        handler: called once per message; raising means "try again later".
        max_deliver: deliveries of a failing message before it is dead-lettered.
        ack_wait_s: how long a message may go without an ack or ``in_progress``.
        batch: most messages pulled per request.
        concurrency: most handlers running at once (a held message counts).
        start: where a consumer created for the first time starts: the whole
            stream (``all``) or only what arrives from now on (``new``).
        redelivery: the nak delay after each failed delivery.
        description: what the consumer does, for the AsyncAPI document.
    """

    durable: str
    stream: str
    subjects: tuple[str, ...]
    handler: Handler
    max_deliver: int = 5
    ack_wait_s: float = 30.0
    batch: int = 64
    concurrency: int = 64
    start: Literal["all", "new"] = "all"
    redelivery: retries.Policy = retries.REDELIVER
    description: str = ""

    @classmethod
    def of(cls, durable: Durable, handler: Handler, **tuning: Any) -> ConsumerSpec:
        """The spec of a durable declared in the service's contract, with its handler."""
        return cls(
            durable=durable.name,
            stream=durable.stream,
            subjects=durable.subjects,
            handler=handler,
            description=durable.description,
            **tuning,
        )


@dataclass
class ConsumerStats:
    """What one consumer did since the process started."""

    acked: int = 0
    retried: int = 0
    dead_lettered: int = 0


class ProcessBroker(NatsBroker):
    """A FastStream broker on a connection the process already has (never a second one).

    ``flightdeck.runtime.connection`` connects as the service's NATS user; the broker
    is handed that client, subscribes on it, and leaves it open when it stops: the
    process closes its connection once, after its consumers (ADR 0019).
    """

    def __init__(self, nc: NATS | None = None, **options: Any) -> None:
        super().__init__(apply_types=False, logger=None, **options)
        self._process_nc = nc

    async def _connect(self) -> NATS:
        if self._process_nc is None:
            raise RuntimeError("this broker only documents; it has no connection to run on")
        self.config.connect(self._process_nc)
        return self._process_nc

    async def stop(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> None:
        self._connection = None  # not ours to drain
        await super().stop(exc_type, exc_val, exc_tb)


def consumer_config(spec: ConsumerSpec) -> api.ConsumerConfig:
    """The durable's JetStream settings: explicit acks, our own delivery count."""
    return api.ConsumerConfig(
        durable_name=spec.durable,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait_s,
        max_deliver=-1,  # we count deliveries ourselves and dead-letter
        max_ack_pending=max(spec.concurrency * 2, 1000),
        deliver_policy=api.DeliverPolicy.ALL if spec.start == "all" else api.DeliverPolicy.NEW,
        filter_subject=spec.subjects[0] if len(spec.subjects) == 1 else None,
        filter_subjects=list(spec.subjects) if len(spec.subjects) > 1 else None,
    )


def subscribe(broker: NatsBroker, spec: ConsumerSpec, codec: Codec) -> PullStreamSubscriber:
    """Register ``spec`` on ``broker`` as a durable pull subscriber with manual acks.

    The same registration documents the consumer (:mod:`flightdeck.runtime.asyncapi`
    calls it on a broker that never connects) and runs it (:class:`Consumers`).
    """
    several = len(spec.subjects) > 1
    subscriber = broker.subscriber(
        "" if several else spec.subjects[0],
        stream=JStream(spec.stream, declare=False),
        durable=spec.durable,
        config=consumer_config(spec),
        pull_sub=PullSub(batch_size=max(spec.batch, 1), timeout=_WAIT_S),
        ack_policy=AckPolicy.MANUAL,
        decoder=decoder(codec),
        no_reply=True,
        title=spec.durable,
        description=spec.description or f"durable pull consumer of {spec.stream}",
    )
    handler = spec.handler

    async def handle(recorded: Any) -> None:  # `Any`: FastStream builds no model of it
        # One parameter, whatever the handler's signature: FastStream reads the signature
        # to decide how to pass the body, and would unpack it for several parameters.
        await handler(recorded)

    subscriber(handle)
    # FastStream builds its own pull loop; ours is the same subscriber with the loop
    # and the consumer creation above (its class adds no state: the swap is safe).
    if type(subscriber) is not PullStreamSubscriber:  # a FastStream change: see ADR 0019
        raise TypeError(f"expected FastStream's PullStreamSubscriber, got {type(subscriber)}")
    subscriber.__class__ = _LeasedPull
    subscriber.flightdeck_spec = spec  # type: ignore[attr-defined]
    return subscriber


def decoder(codec: Codec) -> Callable[[StreamMessage[Msg]], Awaitable[Recorded[Any]]]:
    """FastStream's decoder for our messages: the CloudEvents envelope, by our codec.

    A coroutine function on purpose: FastStream runs a plain function in a worker thread.
    """

    async def decode(message: StreamMessage[Msg]) -> Recorded[Any]:
        raw = message.raw_message
        meta = raw.metadata
        return codec.decode(meta.stream, raw.subject, raw.data, raw.headers, meta.sequence.stream)

    return decode


@dataclass
class Consumers:
    """Runs a service's durable consumers until cancelled.

    Args:
        store: the event store (the dead-letter appends).
        service: the service name, for ``fd.dlq.<service>`` and the actor.
        nc: the process's NATS connection, which the FastStream broker runs on.
    """

    store: EventStore
    service: str
    nc: NATS
    stats: dict[str, ConsumerStats] = field(default_factory=dict)
    codec: Codec = field(init=False)
    specs: dict[str, ConsumerSpec] = field(default_factory=dict, init=False)
    running: ProcessBroker | None = field(default=None, init=False)
    """The broker while :meth:`run` runs."""

    def __post_init__(self) -> None:
        self.codec = Codec(f"/flightdeck/{self.service}")

    def broker(self, specs: Sequence[ConsumerSpec]) -> ProcessBroker:
        """The process's broker with one subscriber per spec and the lease middleware."""
        broker = ProcessBroker(self.nc, middlewares=[self._lease])
        for spec in specs:
            self.specs[spec.durable] = spec
            self.stats.setdefault(spec.durable, ConsumerStats())
            subscribe(broker, spec, self.codec)
        return broker

    async def run(self, specs: Sequence[ConsumerSpec], ready: asyncio.Event | None = None) -> None:
        """Create or bind every consumer, set ``ready``, then consume until cancelled."""
        broker = self.running = self.broker(specs)
        try:
            await broker.start()
            if ready is not None:
                ready.set()
            await asyncio.Event().wait()
        finally:
            # Unsubscribe now (no drain: that would wait for the open pull request).
            with contextlib.suppress(nats.errors.Error, OSError):
                await broker.stop()
            self.running = None

    def _lease(self, msg: Msg | None, /, *, context: Any) -> Lease:
        return Lease(msg, context=context, consumers=self)


class Lease(BaseMiddleware):
    """The acknowledgement policy of every message a consumer takes (see the module)."""

    def __init__(self, msg: Msg | None, /, *, context: Any, consumers: Consumers) -> None:
        super().__init__(msg, context=context)
        self.consumers = consumers

    def _spec(self) -> ConsumerSpec:
        assert self.msg is not None
        return self.consumers.specs[self.msg.metadata.consumer]

    async def consume_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        spec = self._spec()
        raw: Msg = msg.raw_message
        try:
            recorded: Recorded[Any] = await msg.decode()  # type: ignore[assignment]
        except EventDecodeError as exc:
            await self.dead_letter(spec, raw, f"undecodable: {exc}")
            return None
        keepalive = asyncio.create_task(_keep_alive(raw, spec.ack_wait_s / 3))
        try:
            await call_next(msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            keepalive.cancel()
            await self._failed(spec, raw, recorded, exc)
            return None
        finally:
            keepalive.cancel()
        await _quietly(raw.ack())
        self.consumers.stats[spec.durable].acked += 1
        return None

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        """A message FastStream could not hand over (decoding before the handler's scope):
        dead-letter it too; anything else left now comes back after ``ack_wait``."""
        if exc_val is None or self.msg is None or isinstance(exc_val, asyncio.CancelledError):
            return False
        spec = self._spec()
        try:
            if isinstance(exc_val, EventDecodeError):
                await self.dead_letter(spec, self.msg, f"undecodable: {exc_val}")
            else:
                log.error("message left for redelivery", consumer=spec.durable, exc_info=exc_val)
        except Exception:
            log.exception("message left for redelivery", consumer=spec.durable)
        return True

    async def _failed(
        self, spec: ConsumerSpec, msg: Msg, recorded: Recorded[Any], exc: Exception
    ) -> None:
        deliveries = msg.metadata.num_delivered
        error = f"{type(exc).__name__}: {exc}"
        if deliveries >= spec.max_deliver:
            log.error(
                "giving up on message",
                consumer=spec.durable,
                position=recorded.position,
                type=recorded.type,
                deliveries=deliveries,
                error=error,
            )
            await self.dead_letter(spec, msg, error)
            return
        delay = spec.redelivery.delay(deliveries)
        log.warning(
            "handler failed, retrying",
            consumer=spec.durable,
            position=recorded.position,
            type=recorded.type,
            delivery=deliveries,
            retry_in_s=round(delay, 2),
            error=error,
            exc_info=exc,
        )
        self.consumers.stats[spec.durable].retried += 1
        await _quietly(msg.nak(delay=delay))

    async def dead_letter(self, spec: ConsumerSpec, msg: Msg, error: str) -> None:
        """Record the poison message with its error, then terminate it: the consumer moves on.

        If even this fails (NATS away), the message stays un-acked and comes back after
        ``ack_wait``: nothing escapes a message's task.
        """
        consumers = self.consumers
        meta = msg.metadata
        letter = MessageDeadLettered(
            service=consumers.service,
            consumer=spec.durable,
            stream=spec.stream,
            subject=msg.subject,
            position=meta.sequence.stream,
            deliveries=meta.num_delivered,
            error=error[:_MAX_ERROR_TEXT],
            payload=msg.data[:_MAX_PAYLOAD_KEPT].decode("utf-8", errors="replace"),
            headers={k: v[:_MAX_HEADER_KEPT] for k, v in (msg.headers or {}).items()},
            payload_bytes=len(msg.data),
        )
        headers = msg.headers or {}
        cause = Cause(
            actor=f"service:{consumers.service}",
            correlation_id=headers.get("ce-correlationid") or headers.get("ce-id") or "dlq",
            causation_id=headers.get("ce-id"),
        )
        try:
            await consumers.store.append(
                subjects.dead_letters(consumers.service), [letter], cause=cause
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("message left for redelivery", consumer=spec.durable)
            return
        await _quietly(msg.term())
        consumers.stats[spec.durable].dead_lettered += 1


class _LeasedPull(PullStreamSubscriber):
    """FastStream's pull subscriber with our consumer creation and our pull loop."""

    __slots__ = ()

    def get_log_context(self, message: StreamMessage[Msg] | None) -> dict[str, str]:
        """FastStream's logger is off (we log with structlog), so skip building its
        per-message context (it parses the subject pattern again for every message)."""
        return {}

    async def _create_subscription(self) -> None:
        if self.subscription:
            return
        spec: ConsumerSpec = self.flightdeck_spec  # type: ignore[attr-defined]
        js = self.jetstream
        try:
            await js.add_consumer(spec.stream, consumer_config(spec))
        except BadRequestError as exc:
            # An existing consumer whose settings cannot change in place: keep using it.
            log.warning(
                "consumer exists with other settings", consumer=spec.durable, error=str(exc)
            )
        self.subscription = await js.pull_subscribe_bind(spec.durable, spec.stream)
        self.add_task(self._consume_pull, func_kwargs={"cb": self.consume})

    async def _consume_pull(self, cb: Callable[[Msg], Awaitable[Any]]) -> None:
        """Pull, hand each message to its own task, never more than ``concurrency`` at once.

        nats-py's batch ``fetch`` waits for the whole batch (or its timeout) once the
        server has no message ready, which would hold a lone message for seconds. So we
        wait for one message (returned the moment it arrives), then take whatever else
        is already there without waiting.
        """
        spec: ConsumerSpec = self.flightdeck_spec  # type: ignore[attr-defined]
        sub = self.subscription
        assert sub is not None
        slots = asyncio.Semaphore(spec.concurrency)
        running: set[asyncio.Task[Any]] = set()

        def start(msg: Msg) -> None:
            task = asyncio.ensure_future(cb(msg))
            running.add(task)
            task.add_done_callback(running.discard)
            task.add_done_callback(lambda _: slots.release())

        try:
            while self.running:
                await slots.acquire()
                first = await _pull(spec, sub, 1, _WAIT_S)
                if not first:
                    slots.release()
                    continue
                start(first[0])
                free = 0
                while free < spec.batch - 1 and not slots.locked():
                    await slots.acquire()
                    free += 1
                more = await _pull(spec, sub, free, _NO_WAIT_S) if free else []
                for _ in range(free - len(more)):
                    slots.release()
                for msg in more:
                    start(msg)
        except Exception:
            # FastStream's task supervisor starts the loop again; say so, loudly.
            log.exception("pull loop failed; restarting it", consumer=spec.durable)
            raise
        finally:
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)


async def _pull(spec: ConsumerSpec, sub: Any, count: int, wait_s: float) -> list[Msg]:
    try:
        messages: list[Msg] = await sub.fetch(count, timeout=wait_s)
    except (TimeoutError, nats.errors.TimeoutError):
        return []
    except nats.errors.Error as exc:
        log.warning("fetch failed", consumer=spec.durable, error=repr(exc))
        await asyncio.sleep(0.5)
        return []
    return messages


async def _keep_alive(msg: Msg, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        await _quietly(msg.in_progress())


async def _quietly(action: Awaitable[None]) -> None:
    """Acks are best effort: a lost one means a redelivery, which handlers tolerate."""
    with contextlib.suppress(nats.errors.Error, OSError):
        await action
