"""The notifier as its own process on a real NATS: an incident published into the
monitors stream reaches the bound webhook once; killed -9 while the receiver holds
the request, the restarted notifier delivers the same key again and the receiver,
deduping by key, counts one delivery per transition."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import nats.errors
import pytest
from nats.js.errors import NotFoundError

from flightdeck.events import Cause, streams, subjects
from flightdeck.events.monitors import IncidentOpened, MonitorCreated, NotificationSent
from flightdeck.events.notifications import ChannelBound, ChannelCreated
from flightdeck.notifier.domain import channels as ch
from flightdeck.runtime.sealing import Sealer, SecretsSettings
from tests.support.receivers import webhook_receiver
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

KEY = base64.b64encode(b"p" * 32).decode()
CAUSE = Cause(actor="user:ada", correlation_id="corr-process")


def notifier_process(nats_url: str, log: Path) -> ServiceProcess:
    env = {
        **os.environ,
        "FLIGHTDECK_NATS__URL": nats_url,
        "FLIGHTDECK_SECRETS__KEY": KEY,
        "FLIGHTDECK_NOTIFIER__TIMEOUT_S": "10",
        "FLIGHTDECK_NOTIFIER__MAX_ATTEMPTS": "1",
        "FLIGHTDECK_EGRESS__ALLOW_CIDRS": '["127.0.0.0/8"]',  # the local receiver
    }
    return ServiceProcess("flightdeck.notifier", env, log)


async def pulling(store) -> bool:
    js = store.nc.jetstream()
    try:
        info = await js.consumer_info(streams.MONITORS, "notifier-incidents")
    except (NotFoundError, nats.errors.Error):
        return False
    return (info.num_waiting or 0) >= 1


async def test_killed_mid_send_and_restarted_one_delivery_per_transition(
    store, nats_server, tmp_path: Path
) -> None:
    sealer = Sealer.from_settings(SecretsSettings(key=KEY))
    monitor_id, channel_id = f"mon-{uuid.uuid4().hex[:8]}", f"ch-{uuid.uuid4().hex[:8]}"
    binding = ch.secret_binding("acme", channel_id)
    notifier = notifier_process(nats_server.url, tmp_path / "notifier.log").start()
    try:
        async with webhook_receiver(secret="whsec") as receiver:
            receiver.delay_s = 4.0  # the first request is held: the notifier dies meanwhile
            await store.append(
                subjects.monitor(monitor_id),
                [MonitorCreated(monitor_id=monitor_id, tenant="acme", name="api", url="http://x/")],
                cause=CAUSE,
            )
            await store.append(
                subjects.channel(channel_id),
                [
                    ChannelCreated(
                        channel_id=channel_id,
                        tenant="acme",
                        kind="webhook",
                        name="hook",
                        secrets={
                            "url": sealer.seal(receiver.url, binding),
                            "signing_secret": sealer.seal("whsec", binding),
                        },
                    ),
                    ChannelBound(channel_id=channel_id, monitor_id=monitor_id),
                ],
                cause=CAUSE,
            )
            await eventually(lambda: pulling(store), within=30, what="the notifier's consumer")
            await store.append(
                subjects.monitor(monitor_id),
                [
                    IncidentOpened(
                        incident_id="inc-k",
                        monitor_id=monitor_id,
                        cause="HTTP 500",
                        started_at=datetime.now(UTC),
                    )
                ],
                cause=CAUSE,
            )

            async def received() -> bool:
                return len(receiver.requests) >= 1

            await eventually(received, within=30, what="the first request")
            notifier.kill()  # kill -9 while the receiver still holds the request
            receiver.delay_s = 0.0
            notifier.start()

            async def recorded() -> bool:
                events = [r.event for r in await store.read(subjects.channel(channel_id))]
                return any(isinstance(e, NotificationSent) for e in events)

            await eventually(recorded, within=60, what="NotificationSent after the restart")
        keys = {r.headers["idempotency-key"] for r in receiver.requests}
        assert keys == {f"inc-k.opened.{channel_id}"}, notifier.tail()
        assert len(receiver.requests) == 2 and len(receiver.delivered) == 1  # resent, counted once
        assert all(r.signed for r in receiver.requests)
        sent = [
            r.event
            for r in await store.read(subjects.channel(channel_id))
            if isinstance(r.event, NotificationSent)
        ]
        assert len(sent) == 1
    finally:
        notifier.stop()
