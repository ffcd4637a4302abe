"""The notifier's events: NotificationSent v2 (v1 still reads), NotificationFailed and
the channel events on ``fd.evt.channel.<id>``, and channel secrets only ever sealed."""

from __future__ import annotations

import base64

import msgspec
import pytest

from flightdeck.events import Cause, Codec, streams, subjects
from flightdeck.events import envelope as ce
from flightdeck.events.monitors import NotificationSent
from flightdeck.events.notifications import ChannelBound, ChannelCreated, NotificationFailed
from flightdeck.notifier.domain import channels as ch
from flightdeck.notifier.service_layer.channels import open_channel
from flightdeck.runtime.sealing import Sealer, SecretError
from tests.support.samples import T0

pytestmark = pytest.mark.unit

codec = Codec("/flightdeck/tests", clock=lambda: T0)
sealer = Sealer({"k1": b"k" * 32}, "k1")
cause = Cause(actor="user:ada", correlation_id="corr-1")


def test_a_stored_v1_notification_sent_still_reads() -> None:
    old = {
        "type": "monitor.notification_sent",
        "monitor_id": "m1",
        "incident_id": "i1",
        "channel": "c1",
        "ok": True,
    }
    headers = {
        ce.CE_TYPE: "io.flightdeck.monitor.notification_sent",
        ce.CE_SCHEMAVERSION: "1",
        ce.CE_TIME: T0.isoformat(),
    }
    got = codec.decode(streams.MONITORS, "fd.evt.monitor.m1", msgspec.json.encode(old), headers, 1)
    assert got.event == NotificationSent(
        monitor_id="m1",
        incident_id="i1",
        channel="c1",
        ok=True,
        transition=None,
        idempotency_key=None,
        attempt=1,
    )
    assert NotificationSent.schema_version == 2


@pytest.mark.parametrize(
    "event",
    [
        NotificationSent(
            monitor_id="m1",
            incident_id="i1",
            channel="c1",
            ok=True,
            transition="opened",
            idempotency_key="i1.opened.c1",
            attempt=2,
            status_code=200,
            excerpt="ok",
        ),
        NotificationFailed(
            channel_id="c1",
            monitor_id="m1",
            incident_id="i1",
            transition="opened",
            idempotency_key="i1.opened.c1",
            attempt=1,
            status_code=503,
            excerpt="busy",
            retry_in_s=1.4,
        ),
        ChannelBound(channel_id="c1", monitor_id="m1"),
    ],
)
def test_notifications_and_channels_live_on_the_channels_subject(event) -> None:
    subject = subjects.channel("c1")
    assert streams.stream_for_subject(subject) == streams.MONITORS
    out = codec.encode(subject, event, cause)
    assert codec.decode(streams.MONITORS, subject, out.payload, out.headers, 3).event == event


def created(secrets: dict[str, str], **settings) -> ChannelCreated:
    binding = ch.secret_binding("acme", "c1")
    return ChannelCreated(
        channel_id="c1",
        tenant="acme",
        kind=settings.pop("kind"),
        name="ops",
        settings=settings,
        secrets={k: sealer.seal(v, binding) for k, v in secrets.items()},
        url_hint="hooks.example",
    )


def test_a_channels_secrets_are_in_its_event_only_sealed() -> None:
    url, secret = "https://hooks.example/T000/B000/XXXXsecretpath", "whsec_abcdef"
    event = created({"url": url, "signing_secret": secret}, kind="webhook")
    payload = codec.encode(subjects.channel("c1"), event, cause).payload
    for plain in (url, secret):
        assert plain.encode() not in payload
        assert base64.b64encode(plain.encode()) not in payload
    assert open_channel(event, sealer) == ch.WebhookChannel(url=url, secret=secret)


def test_sealed_secrets_of_another_tenants_channel_do_not_open() -> None:
    event = created({"url": "https://hooks.slack/x"}, kind="slack")
    stolen = msgspec.structs.replace(event, tenant="other")
    with pytest.raises(SecretError):
        open_channel(stolen, sealer)


def test_an_email_channel_opens_with_its_password() -> None:
    event = created(
        {"password": "hunter2"},
        kind="email",
        host="smtp.example",
        port=2525,
        sender="fd@example.com",
        recipients=["a@example.com"],
        username="fd",
    )
    channel = open_channel(event, sealer)
    assert channel == ch.EmailChannel(
        host="smtp.example",
        port=2525,
        sender="fd@example.com",
        recipients=("a@example.com",),
        username="fd",
        password="hunter2",
    )


@pytest.mark.parametrize(
    ("kind", "settings", "secrets", "message"),
    [
        ("pager", {}, {}, "unknown channel kind 'pager'"),
        ("slack", {}, {}, "a slack channel needs url"),
        ("webhook", {}, {"url": "https://x/"}, "a webhook channel needs signing_secret"),
        ("email", {"host": "h", "sender": "s"}, {}, "an? email channel needs recipients"),
    ],
)
def test_an_incomplete_channel_names_what_is_missing(kind, settings, secrets, message) -> None:
    with pytest.raises(ch.ChannelInvalid, match=message):
        ch.channel_of(kind, settings, secrets)
