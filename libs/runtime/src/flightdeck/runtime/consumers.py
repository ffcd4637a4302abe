"""Durable JetStream consumers: the one way a Flightdeck service consumes work.

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

Messages are decoded by the codec into :class:`~flightdeck.events.Recorded`,
envelope included, so handlers see the correlation and causation ids of what
they react to. We use nats-py directly rather than FastStream (ADR 0007):
FastStream would open a second, stock connection and hand handlers only the
body. This module is the one place besides the event store's JetStream adapter
where consumers touch NATS: it is handed the process's connection; dead
letters go through the event-store port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import nats.errors
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError

from flightdeck.events import Cause, Codec, EventDecodeError, Recorded, subjects
from flightdeck.events.deadletters import MessageDeadLettered
from flightdeck.eventstore import EventStore
from flightdeck.runtime import retries

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


@dataclass
class ConsumerStats:
    """What one consumer did since the process started."""

    acked: int = 0
    retried: int = 0
    dead_lettered: int = 0


@dataclass
class Consumers:
    """Runs a service's durable consumers until cancelled.

    Args:
        store: the event store (the dead-letter appends).
        service: the service name, for ``fd.dlq.<service>`` and the actor.
        nc: the process's NATS connection, the consumers' own.
    """

    store: EventStore
    service: str
    nc: NATS
    stats: dict[str, ConsumerStats] = field(default_factory=dict)
    codec: Codec = field(init=False)

    def __post_init__(self) -> None:
        self.codec = Codec(f"/flightdeck/{self.service}")

    async def run(self, specs: Sequence[ConsumerSpec], ready: asyncio.Event | None = None) -> None:
        """Create or bind every consumer, set ``ready``, then consume forever."""
        subs = [await self._bind(spec) for spec in specs]
        if ready is not None:
            ready.set()
        async with asyncio.TaskGroup() as group:
            for spec, sub in zip(specs, subs, strict=True):
                group.create_task(self._consume(spec, sub), name=f"consume {spec.durable}")

    async def _bind(self, spec: ConsumerSpec) -> Any:
        js = self.nc.jetstream()
        config = api.ConsumerConfig(
            durable_name=spec.durable,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=spec.ack_wait_s,
            max_deliver=-1,  # we count deliveries ourselves and dead-letter
            max_ack_pending=max(spec.concurrency * 2, 1000),
            deliver_policy=api.DeliverPolicy.ALL if spec.start == "all" else api.DeliverPolicy.NEW,
            filter_subject=spec.subjects[0] if len(spec.subjects) == 1 else None,
            filter_subjects=list(spec.subjects) if len(spec.subjects) > 1 else None,
        )
        try:
            await js.add_consumer(spec.stream, config)
        except BadRequestError as exc:
            # An existing consumer whose settings cannot change in place: keep using it.
            log.warning(
                "consumer exists with other settings", consumer=spec.durable, error=str(exc)
            )
        self.stats.setdefault(spec.durable, ConsumerStats())
        return await js.pull_subscribe_bind(spec.durable, spec.stream)

    async def _consume(self, spec: ConsumerSpec, sub: Any) -> None:
        """Pull, hand each message to its own task, never more than ``concurrency`` at once.

        nats-py's batch ``fetch`` waits for the whole batch (or its timeout) once the
        server has no message ready, which would hold a lone message for seconds. So we
        wait for one message (returned the moment it arrives), then take whatever else
        is already there without waiting.
        """
        slots = asyncio.Semaphore(spec.concurrency)
        running: set[asyncio.Task[None]] = set()

        def start(msg: Msg) -> None:
            task = asyncio.create_task(self._guarded(spec, msg))
            running.add(task)
            task.add_done_callback(running.discard)
            task.add_done_callback(lambda _: slots.release())

        try:
            while True:
                await slots.acquire()
                first = await self._pull(spec, sub, 1, _WAIT_S)
                if not first:
                    slots.release()
                    continue
                start(first[0])
                free = 0
                while free < spec.batch - 1 and not slots.locked():
                    await slots.acquire()
                    free += 1
                more = await self._pull(spec, sub, free, _NO_WAIT_S) if free else []
                for _ in range(free - len(more)):
                    slots.release()
                for msg in more:
                    start(msg)
        finally:
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            # Unsubscribe now: a drain would otherwise wait for the open pull request.
            with contextlib.suppress(nats.errors.Error, OSError):
                await sub.unsubscribe()

    @staticmethod
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

    async def _guarded(self, spec: ConsumerSpec, msg: Msg) -> None:
        """Nothing escapes a message's task: if even dead-lettering fails (NATS away), the
        message stays un-acked and comes back after ``ack_wait``."""
        try:
            await self._handle(spec, msg)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("message left for redelivery", consumer=spec.durable)

    async def _handle(self, spec: ConsumerSpec, msg: Msg) -> None:
        meta = msg.metadata
        stats = self.stats[spec.durable]
        try:
            recorded = self.codec.decode(
                spec.stream, msg.subject, msg.data, msg.headers, meta.sequence.stream
            )
        except EventDecodeError as exc:
            await self._dead_letter(spec, msg, f"undecodable: {exc}")
            return
        keepalive = asyncio.create_task(self._keep_alive(msg, spec.ack_wait_s / 3))
        try:
            await spec.handler(recorded)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            keepalive.cancel()
            await self._failed(spec, msg, recorded, exc)
            return
        finally:
            keepalive.cancel()
        await _quietly(msg.ack())
        stats.acked += 1

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
            await self._dead_letter(spec, msg, error)
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
        self.stats[spec.durable].retried += 1
        await _quietly(msg.nak(delay=delay))

    async def _dead_letter(self, spec: ConsumerSpec, msg: Msg, error: str) -> None:
        """Record the poison message with its error, then terminate it: the consumer moves on."""
        meta = msg.metadata
        letter = MessageDeadLettered(
            service=self.service,
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
            actor=f"service:{self.service}",
            correlation_id=headers.get("ce-correlationid") or headers.get("ce-id") or "dlq",
            causation_id=headers.get("ce-id"),
        )
        await self.store.append(subjects.dead_letters(self.service), [letter], cause=cause)
        await _quietly(msg.term())
        self.stats[spec.durable].dead_lettered += 1

    @staticmethod
    async def _keep_alive(msg: Msg, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            await _quietly(msg.in_progress())


async def _quietly(action: Awaitable[None]) -> None:
    """Acks are best effort: a lost one means a redelivery, which handlers tolerate."""
    with contextlib.suppress(nats.errors.Error, OSError):
        await action
