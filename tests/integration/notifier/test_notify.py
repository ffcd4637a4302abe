"""The notifier's service layer on a real NATS: an incident reaches each bound channel
once, every attempt is an event on the channel's subject, and a redelivery or a
restart sends nothing again."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest

from flightdeck.events import Cause, subjects
from flightdeck.events.monitors import (
    IncidentOpened,
    IncidentResolved,
    MonitorCreated,
    NotificationSent,
)
from flightdeck.events.notifications import (
    ChannelBound,
    ChannelCreated,
    NotificationFailed,
)
from flightdeck.notifier.adapters.smtp import SmtpMailSender
from flightdeck.notifier.adapters.webhook import HttpxWebhookSender
from flightdeck.notifier.domain import channels as ch
from flightdeck.notifier.service_layer.notify import Notifier
from flightdeck.runtime.egress import EgressPolicy
from flightdeck.runtime.sealing import Sealer
from tests.support.receivers import webhook_receiver

pytestmark = pytest.mark.integration

LOOPBACK = EgressPolicy.of(["127.0.0.0/8", "::1/128"])  # the local receivers

CAUSE = Cause(actor="user:ada", correlation_id="corr-notify")
SEALER = Sealer({"k1": b"n" * 32}, "k1")


async def no_wait(_: float) -> None:
    pass


async def setup(store, url: str, *, tenant: str = "acme", bind_tenant: str | None = None):
    """A monitor of ``tenant``, a webhook channel of ``bind_tenant`` bound to it."""
    monitor_id, channel_id = f"mon-{uuid.uuid4().hex[:8]}", f"ch-{uuid.uuid4().hex[:8]}"
    owner = bind_tenant or tenant
    binding = ch.secret_binding(owner, channel_id)
    await store.append(
        subjects.monitor(monitor_id),
        [MonitorCreated(monitor_id=monitor_id, tenant=tenant, name="shop api", url="http://x/")],
        cause=CAUSE,
    )
    await store.append(
        subjects.channel(channel_id),
        [
            ChannelCreated(
                channel_id=channel_id,
                tenant=owner,
                kind="webhook",
                name="ops hook",
                secrets={
                    "url": SEALER.seal(url, binding),
                    "signing_secret": SEALER.seal("whsec", binding),
                },
            ),
            ChannelBound(channel_id=channel_id, monitor_id=monitor_id),
        ],
        cause=CAUSE,
    )
    return monitor_id, channel_id


async def incident(store, monitor_id: str, event):
    await store.append(subjects.monitor(monitor_id), [event], cause=CAUSE)
    return await store.read_last(subjects.monitor(monitor_id))


def notifier(store, sender: HttpxWebhookSender) -> Notifier:
    return Notifier(
        store, SEALER, sender, SmtpMailSender(timeout_s=2), clock=time.time, sleep=no_wait
    )


async def test_open_and_resolve_reach_a_bound_channel_once_each(store) -> None:
    async with webhook_receiver(secret="whsec", script=[503]) as receiver:
        monitor_id, channel_id = await setup(store, receiver.url)
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        try:
            n = notifier(store, sender)
            opened = await incident(
                store,
                monitor_id,
                IncidentOpened(
                    incident_id="inc-1",
                    monitor_id=monitor_id,
                    cause="HTTP 500",
                    started_at=datetime.now(UTC),
                ),
            )
            [outcome] = await n.handle(opened)
            assert outcome.delivered and outcome.attempts == 2
            assert await n.handle(opened) == []  # a redelivery: already sent
            assert await notifier(store, sender).handle(opened) == []  # a restarted notifier
            resolved = await incident(
                store,
                monitor_id,
                IncidentResolved(
                    incident_id="inc-1",
                    monitor_id=monitor_id,
                    resolved_at=datetime.now(UTC),
                    duration_s=42.0,
                ),
            )
            [outcome] = await n.handle(resolved)
            assert outcome.delivered
            assert await n.handle(resolved) == []
        finally:
            await sender.close()
    keys = [r.headers["idempotency-key"] for r in receiver.requests]
    assert keys == [f"inc-1.opened.{channel_id}"] * 2 + [f"inc-1.resolved.{channel_id}"]
    assert all(r.signed for r in receiver.requests)
    assert len(receiver.delivered) == 2
    events = [r.event for r in await store.read(subjects.channel(channel_id))][2:]
    assert [type(e) for e in events] == [NotificationFailed, NotificationSent, NotificationSent]
    failed, sent, _ = events
    assert (failed.attempt, failed.status_code, failed.excerpt) == (1, 503, "refused with 503")
    assert failed.retry_in_s is not None and not failed.dead_lettered
    assert (sent.attempt, sent.status_code, sent.transition) == (2, 200, "opened")


async def test_a_dead_lettered_delivery_is_not_tried_again(store) -> None:
    async with webhook_receiver(secret="whsec", script=[500] * 10) as receiver:
        monitor_id, channel_id = await setup(store, receiver.url)
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        try:
            n = notifier(store, sender)
            n.max_attempts = 3
            opened = await incident(
                store,
                monitor_id,
                IncidentOpened(
                    incident_id="inc-2",
                    monitor_id=monitor_id,
                    cause="timeout",
                    started_at=datetime.now(UTC),
                ),
            )
            [outcome] = await n.handle(opened)
            assert outcome.dead_lettered
            assert await n.handle(opened) == []
        finally:
            await sender.close()
    assert len(receiver.requests) == 3
    last = (await store.read_last(subjects.channel(channel_id))).event
    assert isinstance(last, NotificationFailed) and last.dead_lettered and last.attempt == 3


async def test_another_tenants_channel_bound_to_the_monitor_is_not_told(store) -> None:
    async with webhook_receiver(secret="whsec") as receiver:
        monitor_id, _ = await setup(store, receiver.url, tenant="acme", bind_tenant="other")
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        try:
            opened = await incident(
                store,
                monitor_id,
                IncidentOpened(
                    incident_id="inc-3",
                    monitor_id=monitor_id,
                    cause="HTTP 500",
                    started_at=datetime.now(UTC),
                ),
            )
            assert await notifier(store, sender).handle(opened) == []
        finally:
            await sender.close()
    assert receiver.requests == []


async def test_an_email_channel_gets_one_mail_per_transition(store, tmp_path) -> None:
    from tests.support.certs import make_certificates
    from tests.support.receivers import client_tls, smtp_server

    certs = make_certificates(tmp_path)
    with smtp_server(certs, user="fd", password="hunter2") as smtp:
        monitor_id, channel_id = f"mon-{uuid.uuid4().hex[:8]}", f"ch-{uuid.uuid4().hex[:8]}"
        binding = ch.secret_binding("acme", channel_id)
        await store.append(
            subjects.monitor(monitor_id),
            [MonitorCreated(monitor_id=monitor_id, tenant="acme", name="shop", url="http://x/")],
            cause=CAUSE,
        )
        await store.append(
            subjects.channel(channel_id),
            [
                ChannelCreated(
                    channel_id=channel_id,
                    tenant="acme",
                    kind="email",
                    name="ops mail",
                    settings={
                        "host": "127.0.0.1",
                        "port": smtp.port,
                        "sender": "fd@example.com",
                        "recipients": ["ops@example.com"],
                        "username": "fd",
                        "starttls": True,
                    },
                    secrets={"password": SEALER.seal("hunter2", binding)},
                ),
                ChannelBound(channel_id=channel_id, monitor_id=monitor_id),
            ],
            cause=CAUSE,
        )
        sender = HttpxWebhookSender(timeout_s=5, policy=LOOPBACK)
        try:
            n = Notifier(
                store,
                SEALER,
                sender,
                SmtpMailSender(timeout_s=5, tls_context=client_tls(certs)),
                clock=time.time,
                sleep=no_wait,
            )
            opened = await incident(
                store,
                monitor_id,
                IncidentOpened(
                    incident_id="inc-4",
                    monitor_id=monitor_id,
                    cause="HTTP 500",
                    started_at=datetime.now(UTC),
                ),
            )
            [outcome] = await n.handle(opened)
            assert outcome.delivered
            assert await n.handle(opened) == []
        finally:
            await sender.close()
    [mail] = smtp.mails
    assert mail.tls and mail.login == "fd"
    assert mail.message["Message-ID"] == f"<inc-4.opened.{channel_id}@flightdeck>"
    assert mail.message["Subject"] == "🔴 shop is down"
    sent = (await store.read_last(subjects.channel(channel_id))).event
    assert isinstance(sent, NotificationSent) and sent.status_code == 250
