"""Telling a monitor's bound channels about an incident transition, once each.

For each channel bound to the incident's monitor (folded from ``fd.evt.channel.>``):

1. the transition's idempotency key for this channel (``<incident>.<transition>.<channel>``);
2. the channel's subject is read for a ``NotificationSent`` with that key (or a
   dead-lettered ``NotificationFailed``): found, nothing is sent again. This is what
   makes a redelivery or a restart after a finished delivery send nothing;
3. otherwise the delivery runs (retries with backoff and jitter, then the dead
   letter), and every attempt is appended to the channel's subject.

The one window left, a notifier killed after the receiver took the request and
before its ``NotificationSent`` was stored, sends once more on restart with the
same ``Idempotency-Key`` (an email, the same ``Message-ID``): a receiver that keeps
keys counts it once (ADR 0028).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog

from flightdeck.events import Cause, streams, subjects
from flightdeck.events.envelope import Recorded
from flightdeck.events.monitors import (
    IncidentOpened,
    IncidentResolved,
    MonitorCreated,
    MonitorUpdated,
    NotificationSent,
)
from flightdeck.events.notifications import (
    ChannelBound,
    ChannelCreated,
    ChannelDeleted,
    ChannelUnbound,
    NotificationFailed,
)
from flightdeck.eventstore import EventStore
from flightdeck.notifier.domain import channels as ch
from flightdeck.notifier.domain.delivery import Answer, Next
from flightdeck.notifier.service_layer.channels import open_channel
from flightdeck.notifier.service_layer.deliver import Outcome, deliver
from flightdeck.notifier.service_layer.ports import MailSender, Opener, WebhookSender
from flightdeck.runtime.retries import NOTIFY
from flightdeck.runtime.sealing import SecretError

log = structlog.get_logger(__name__)
CAUSE_ACTOR = "service:notifier"


@dataclass
class Notifier:
    store: EventStore
    opener: Opener
    webhooks: WebhookSender
    mail: MailSender
    clock: Callable[[], float]
    max_attempts: int = 5
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def handle(self, recorded: Recorded[Any]) -> list[Outcome]:
        """An incident event from the monitors' stream: notify every bound channel."""
        transition = await self.transition_of(recorded)
        if transition is None:
            return []
        outcomes = []
        for created in await self.bound_channels(transition.monitor_id, transition.tenant):
            try:
                outcome = await self.notify(transition, created, recorded)
            except (ch.ChannelInvalid, SecretError) as exc:
                # One broken channel does not keep the others from being told.
                log.error("channel cannot be used", channel_id=created.channel_id, error=str(exc))
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    async def on_message(self, recorded: Recorded[Any]) -> None:
        """The durable consumer's handler (an error: redelivered later)."""
        await self.handle(recorded)

    async def transition_of(self, recorded: Recorded[Any]) -> ch.Transition | None:
        event = recorded.event
        if not isinstance(event, IncidentOpened | IncidentResolved):
            return None
        history = await self.store.read(subjects.monitor(event.monitor_id))
        tenant, name = None, event.monitor_id
        opened: IncidentOpened | None = None
        for r in history:
            e = r.event
            if isinstance(e, MonitorCreated):
                tenant, name = e.tenant, e.name
            elif isinstance(e, MonitorUpdated):
                name = e.name
            elif isinstance(e, IncidentOpened) and e.incident_id == event.incident_id:
                opened = e
        if tenant is None:
            log.warning("incident of an unknown monitor", monitor_id=event.monitor_id)
            return None
        if isinstance(event, IncidentOpened):
            return ch.opened(event, tenant=tenant, monitor_name=name)
        return ch.resolved(
            event,
            tenant=tenant,
            monitor_name=name,
            cause=opened.cause if opened else None,
            started_at=opened.started_at if opened else None,
        )

    async def bound_channels(self, monitor_id: str, tenant: str) -> list[ChannelCreated]:
        """The tenant's live channels bound to ``monitor_id`` (another tenant's never)."""
        defined: dict[str, ChannelCreated] = {}
        bound: set[str] = set()
        async for chunk in self.store.read_chunks(streams.MONITORS, subjects.ALL_CHANNELS):
            for r in chunk.events:
                e = r.event
                if isinstance(e, ChannelCreated):
                    defined[e.channel_id] = e
                elif isinstance(e, ChannelDeleted):
                    defined.pop(e.channel_id, None)
                elif isinstance(e, ChannelBound) and e.monitor_id == monitor_id:
                    bound.add(e.channel_id)
                elif isinstance(e, ChannelUnbound) and e.monitor_id == monitor_id:
                    bound.discard(e.channel_id)
        return [defined[c] for c in sorted(bound) if c in defined and defined[c].tenant == tenant]

    async def already_done(self, channel_id: str, key: str) -> bool:
        for r in await self.store.read(subjects.channel(channel_id)):
            e = r.event
            if isinstance(e, NotificationSent) and e.idempotency_key == key and e.ok:
                return True
            if isinstance(e, NotificationFailed) and e.idempotency_key == key and e.dead_lettered:
                return True
        return False

    async def notify(
        self, t: ch.Transition, created: ChannelCreated, because: Recorded[Any]
    ) -> Outcome | None:
        channel_id = created.channel_id
        key = ch.idempotency_key(channel_id, t)
        if await self.already_done(channel_id, key):
            log.info("notification already sent", channel_id=channel_id, key=key)
            return None
        channel = open_channel(created, self.opener)
        subject = subjects.channel(channel_id)
        cause = Cause(
            actor=CAUSE_ACTOR,
            correlation_id=because.correlation_id or because.id,
            causation_id=because.id,
        )

        async def attempt() -> Answer:
            if isinstance(channel, ch.EmailChannel):
                return await self.mail.send(channel, ch.build_email(channel, t, key))
            request = ch.build_request(channel, t, key, timestamp=int(self.clock()))
            return await self.webhooks.post(request)

        async def record(
            number: int, answer: Answer, following: Next, retry_in_s: float | None
        ) -> None:
            if following is Next.DONE:
                event: NotificationSent | NotificationFailed = NotificationSent(
                    monitor_id=t.monitor_id,
                    incident_id=t.incident_id,
                    channel=channel_id,
                    ok=True,
                    transition=t.name,
                    idempotency_key=key,
                    attempt=number,
                    status_code=answer.status,
                    excerpt=answer.excerpt,
                )
            else:
                event = NotificationFailed(
                    channel_id=channel_id,
                    monitor_id=t.monitor_id,
                    incident_id=t.incident_id,
                    transition=t.name,
                    idempotency_key=key,
                    attempt=number,
                    status_code=answer.status,
                    excerpt=answer.excerpt,
                    error=answer.error,
                    dead_lettered=following is Next.DEAD_LETTER,
                    retry_in_s=None if retry_in_s is None else round(retry_in_s, 3),
                )
            await self.store.append(subject, [event], cause=cause)
            log.info(
                "notification attempt",
                channel_id=channel_id,
                kind=created.kind,
                key=key,
                attempt=number,
                status=answer.status,
                next=str(following),
            )

        return await deliver(
            attempt, record, max_attempts=self.max_attempts, policy=NOTIFY, sleep=self.sleep
        )
