"""The notifier's channels: what Slack, Discord, email and a generic webhook are sent
for an incident's transitions, the idempotency key, and the webhook signature."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from flightdeck.events.monitors import IncidentOpened, IncidentResolved
from flightdeck.notifier.domain import channels as ch

STARTED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
RESOLVED = datetime(2026, 12, 7, 9, 12, 30, tzinfo=UTC)
OPENED_EVENT = IncidentOpened(
    incident_id="inc-1", monitor_id="mon-1", cause="HTTP 500", started_at=STARTED
)
RESOLVED_EVENT = IncidentResolved(
    incident_id="inc-1", monitor_id="mon-1", resolved_at=RESOLVED, duration_s=750.0
)
OPEN = ch.opened(OPENED_EVENT, tenant="acme", monitor_name="shop api")
RESOLVE = ch.resolved(RESOLVED_EVENT, tenant="acme", monitor_name="shop api", cause="HTTP 500")
HOOK = ch.WebhookChannel(url="https://hooks.example/x", secret="s3cret")


def test_transitions_are_built_from_the_incident_events() -> None:
    assert (OPEN.phase, OPEN.cause, OPEN.at, OPEN.event) == (
        "opened",
        "HTTP 500",
        STARTED,
        "incident.opened",
    )
    assert (RESOLVE.phase, RESOLVE.duration_s, RESOLVE.at) == ("resolved", 750.0, RESOLVED)


def test_each_transition_reminder_and_channel_has_its_own_idempotency_key() -> None:
    keys = {
        ch.idempotency_key("chan-a", OPEN),
        ch.idempotency_key("chan-a", RESOLVE),
        ch.idempotency_key("chan-b", OPEN),
        ch.idempotency_key("chan-a", ch.reminder(OPEN, number=1, at=RESOLVED)),
        ch.idempotency_key("chan-a", ch.reminder(OPEN, number=2, at=RESOLVED)),
    }
    assert len(keys) == 5
    # ...and the same on every attempt and after a restart: it depends on nothing else.
    assert ch.idempotency_key("chan-a", OPEN) == ch.idempotency_key("chan-a", OPEN)


def test_a_reminder_follows_only_an_opened_incident() -> None:
    with pytest.raises(ValueError, match="reminder"):
        ch.reminder(RESOLVE, number=1, at=RESOLVED)
    with pytest.raises(ValueError, match="reminder"):
        ch.reminder(OPEN, number=0, at=RESOLVED)


def test_slack_gets_a_fallback_text_and_blocks() -> None:
    request = ch.build_request(
        ch.SlackChannel(url="https://hooks.slack/x"), OPEN, "k1", timestamp=1
    )
    body = json.loads(request.body)
    assert body["text"] == "🔴 shop api is down"
    kinds = [block["type"] for block in body["blocks"]]
    assert kinds == ["header", "section", "context"]
    fields = " ".join(f["text"] for f in body["blocks"][1]["fields"])
    assert "HTTP 500" in fields and "inc-1" in fields
    assert request.headers[ch.IDEMPOTENCY_HEADER] == "k1"
    assert ch.SIGNATURE_HEADER not in request.headers


def test_discord_gets_one_embed_red_while_open_green_when_resolved() -> None:
    discord = ch.DiscordChannel(url="https://discord.example/api/webhooks/1/x")
    opened = json.loads(ch.build_request(discord, OPEN, "k", timestamp=1).body)["embeds"]
    resolved = json.loads(ch.build_request(discord, RESOLVE, "k", timestamp=1).body)["embeds"]
    assert len(opened) == 1 and opened[0]["color"] == ch.OPEN_COLOUR
    assert resolved[0]["color"] == ch.RESOLVED_COLOUR
    assert resolved[0]["title"] == "🟢 shop api is up again"
    assert {"name": "Down for", "value": "12m 30s", "inline": True} in resolved[0]["fields"]


def test_email_says_what_happened_and_carries_the_key_as_its_message_id() -> None:
    channel = ch.EmailChannel(
        host="smtp.example", port=587, sender="fd@example.com", recipients=("ops@example.com",)
    )
    mail = ch.build_email(channel, RESOLVE, "inc-1.resolved.chan-a")
    assert mail.subject == "🟢 shop api is up again"
    assert "Down for: 12m 30s" in mail.text and "Cause: HTTP 500" in mail.text
    assert mail.headers["Message-ID"] == "<inc-1.resolved.chan-a@flightdeck>"
    assert mail.recipients == ("ops@example.com",)


def test_a_generic_webhook_is_signed_over_timestamp_and_body() -> None:
    request = ch.build_request(HOOK, OPEN, "inc-1.opened.chan-a", timestamp=1_765_000_000)
    body = json.loads(request.body)
    assert body["event"] == "incident.opened" and body["idempotencyKey"] == "inc-1.opened.chan-a"
    assert body["incident"]["cause"] == "HTTP 500"
    assert request.headers[ch.TIMESTAMP_HEADER] == "1765000000"
    signature = request.headers[ch.SIGNATURE_HEADER]
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert ch.verify(
        "s3cret", signature=signature, timestamp="1765000000", body=request.body, now=1_765_000_010
    )


def test_the_signature_fails_for_another_secret_body_or_timestamp() -> None:
    request = ch.build_request(HOOK, OPEN, "k", timestamp=1_765_000_000)
    signature = request.headers[ch.SIGNATURE_HEADER]

    def ok(secret: str = "s3cret", ts: str = "1765000000", body: bytes = request.body) -> bool:
        return ch.verify(secret, signature=signature, timestamp=ts, body=body, now=1_765_000_000)

    assert ok()
    assert not ok(secret="other")
    assert not ok(body=request.body.replace(b"HTTP 500", b"HTTP 200"))
    assert not ok(ts="1765000001")  # the timestamp is inside the MAC
    assert not ok(ts="soon")


def test_an_old_signed_request_is_refused_as_a_replay() -> None:
    request = ch.build_request(HOOK, OPEN, "k", timestamp=1_765_000_000)
    args = {
        "signature": request.headers[ch.SIGNATURE_HEADER],
        "timestamp": "1765000000",
        "body": request.body,
    }
    assert ch.verify("s3cret", now=1_765_000_000 + 299, **args)
    assert not ch.verify("s3cret", now=1_765_000_000 + 301, **args)
