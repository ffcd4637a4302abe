"""Channels and what each is sent when an incident opens, resolves or stays open.

Pure: times, keys and secrets come in as arguments. A message is a value (an
:class:`Email` or an :class:`HttpRequest`); the adapters only put it on the wire.

Four kinds of channel, as Uptime Kuma and Gatus users know them:

- ``email``: SMTP with STARTTLS and auth; a plain-text message.
- ``slack``: an incoming webhook; ``text`` (the notification's fallback) and
  Block Kit ``blocks`` (a header, the fields, a context line).
- ``discord``: a webhook; one embed, red while open and green when resolved.
- ``webhook``: any URL; a JSON body (:func:`webhook_body`), signed (:func:`sign`).

Every request carries ``Idempotency-Key``: the same for every attempt at one
incident transition on one channel (:func:`idempotency_key`), so a receiver
that saw it already can drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from flightdeck.events.monitors import IncidentOpened, IncidentResolved

SIGNATURE_HEADER = "X-Flightdeck-Signature"
"""``sha256=<hex>``: HMAC-SHA256 with the channel's secret over ``<timestamp>.<body>``."""
TIMESTAMP_HEADER = "X-Flightdeck-Timestamp"
"""Unix seconds when the request was signed; a receiver refuses one too old (replay)."""
IDEMPOTENCY_HEADER = "Idempotency-Key"
"""One per incident transition and channel: a receiver that saw it already drops the repeat."""
EVENT_HEADER = "X-Flightdeck-Event"
"""``incident.opened`` / ``incident.resolved`` / ``incident.reminder``."""
SIGNATURE_TOLERANCE_S = 300
"""How old a signed request may be when a receiver checks it (Stripe's default, 5 min)."""

OPEN_COLOUR = 0xE01E5A
RESOLVED_COLOUR = 0x2EB67D

Phase = Literal["opened", "resolved", "reminder"]


class ChannelKind(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    DISCORD = "discord"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class EmailChannel:
    """An SMTP server and who gets the mail. ``starttls``: upgrade the connection
    before authenticating (port 587); the password is unsealed only to send."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    kind: Literal[ChannelKind.EMAIL] = ChannelKind.EMAIL


@dataclass(frozen=True)
class SlackChannel:
    url: str
    kind: Literal[ChannelKind.SLACK] = ChannelKind.SLACK


@dataclass(frozen=True)
class DiscordChannel:
    url: str
    kind: Literal[ChannelKind.DISCORD] = ChannelKind.DISCORD


@dataclass(frozen=True)
class WebhookChannel:
    """Any URL; ``secret`` signs each request so the receiver can tell it is ours."""

    url: str
    secret: str
    kind: Literal[ChannelKind.WEBHOOK] = ChannelKind.WEBHOOK


Channel = EmailChannel | SlackChannel | DiscordChannel | WebhookChannel


@dataclass(frozen=True)
class Transition:
    """One incident transition a channel is told about, once.

    ``reminder`` counts reminders while the incident stays open (1, 2, …), so each
    reminder is its own transition with its own idempotency key.
    """

    tenant: str
    incident_id: str
    monitor_id: str
    monitor_name: str
    phase: Phase
    at: datetime
    cause: str | None = None
    started_at: datetime | None = None
    duration_s: float | None = None
    reminder: int = 0

    @property
    def event(self) -> str:
        return f"incident.{self.phase}"

    @property
    def name(self) -> str:
        """The transition's part of an idempotency key: ``opened``, ``resolved``, ``reminder-2``."""
        return f"reminder-{self.reminder}" if self.phase == "reminder" else self.phase


def opened(event: IncidentOpened, *, tenant: str, monitor_name: str) -> Transition:
    return Transition(
        tenant=tenant,
        incident_id=event.incident_id,
        monitor_id=event.monitor_id,
        monitor_name=monitor_name,
        phase="opened",
        at=event.started_at,
        cause=event.cause,
        started_at=event.started_at,
    )


def resolved(
    event: IncidentResolved,
    *,
    tenant: str,
    monitor_name: str,
    cause: str | None = None,
    started_at: datetime | None = None,
) -> Transition:
    return Transition(
        tenant=tenant,
        incident_id=event.incident_id,
        monitor_id=event.monitor_id,
        monitor_name=monitor_name,
        phase="resolved",
        at=event.resolved_at,
        cause=cause,
        started_at=started_at,
        duration_s=event.duration_s,
    )


def reminder(of: Transition, *, number: int, at: datetime) -> Transition:
    """The ``number``-th reminder that the incident ``of`` opened is still open at ``at``."""
    if of.phase != "opened" or number < 1:
        raise ValueError("a reminder follows an opened incident and counts from 1")
    return Transition(
        tenant=of.tenant,
        incident_id=of.incident_id,
        monitor_id=of.monitor_id,
        monitor_name=of.monitor_name,
        phase="reminder",
        at=at,
        cause=of.cause,
        started_at=of.started_at,
        reminder=number,
    )


def idempotency_key(channel_id: str, transition: Transition) -> str:
    """The same for every attempt (and every notifier restart) at one transition on one
    channel; different for another transition, reminder or channel."""
    return f"{transition.incident_id}.{transition.name}.{channel_id}"


# ------------------------------------------------------------------ the words


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def title(t: Transition) -> str:
    if t.phase == "opened":
        return f"🔴 {t.monitor_name} is down"
    if t.phase == "resolved":
        return f"🟢 {t.monitor_name} is up again"
    return f"🔴 {t.monitor_name} is still down (reminder {t.reminder})"


def facts(t: Transition) -> list[tuple[str, str]]:
    """What every message says, in order: label and value."""
    rows = [("Monitor", t.monitor_name)]
    if t.cause:
        rows.append(("Cause", t.cause))
    if t.started_at is not None:
        rows.append(("Since", t.started_at.isoformat()))
    if t.phase == "resolved":
        rows.append(("Resolved", t.at.isoformat()))
        if t.duration_s is not None:
            rows.append(("Down for", duration_text(t.duration_s)))
    rows.append(("Incident", t.incident_id))
    return rows


# --------------------------------------------------------------- the messages


@dataclass(frozen=True)
class Email:
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpRequest:
    url: str
    body: bytes
    headers: dict[str, str]


def build_email(channel: EmailChannel, t: Transition, key: str) -> Email:
    lines = [title(t), ""] + [f"{label}: {value}" for label, value in facts(t)]
    return Email(
        sender=channel.sender,
        recipients=channel.recipients,
        subject=title(t),
        text="\n".join(lines) + "\n",
        # RFC 5322 Message-ID built from the key: a mail system that keeps it dedupes too.
        headers={"Message-ID": f"<{key}@flightdeck>", "X-Flightdeck-Event": t.event},
    )


def slack_payload(t: Transition) -> dict[str, Any]:
    fields = [{"type": "mrkdwn", "text": f"*{label}*\n{value}"} for label, value in facts(t)]
    return {
        "text": title(t),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title(t)}},
            # Slack allows at most 10 fields in a section.
            {"type": "section", "fields": fields[:10]},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"Flightdeck · {t.event}"}],
            },
        ],
    }


def discord_payload(t: Transition) -> dict[str, Any]:
    colour = RESOLVED_COLOUR if t.phase == "resolved" else OPEN_COLOUR
    return {
        "embeds": [
            {
                "title": title(t),
                "color": colour,
                "timestamp": t.at.isoformat(),
                "fields": [
                    {"name": label, "value": value, "inline": label != "Incident"}
                    for label, value in facts(t)
                ],
                "footer": {"text": f"Flightdeck · {t.event}"},
            }
        ]
    }


def webhook_body(t: Transition, key: str) -> dict[str, Any]:
    """The generic webhook's JSON: a versioned envelope a receiver can parse without
    knowing Slack or Discord."""
    return {
        "version": 1,
        "event": t.event,
        "idempotencyKey": key,
        "tenant": t.tenant,
        "incident": {
            "id": t.incident_id,
            "monitorId": t.monitor_id,
            "monitorName": t.monitor_name,
            "cause": t.cause,
            "startedAt": t.started_at.isoformat() if t.started_at else None,
            "resolvedAt": t.at.isoformat() if t.phase == "resolved" else None,
            "durationSeconds": t.duration_s,
            "reminder": t.reminder or None,
        },
        "at": t.at.isoformat(),
    }


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def build_request(
    channel: SlackChannel | DiscordChannel | WebhookChannel,
    t: Transition,
    key: str,
    *,
    timestamp: int,
) -> HttpRequest:
    """The HTTP request for a webhook-like channel; ``timestamp`` (Unix seconds, now)
    is signed into a generic webhook's request."""
    headers = {
        "Content-Type": "application/json",
        IDEMPOTENCY_HEADER: key,
        EVENT_HEADER: t.event,
    }
    if isinstance(channel, SlackChannel):
        return HttpRequest(channel.url, _json(slack_payload(t)), headers)
    if isinstance(channel, DiscordChannel):
        return HttpRequest(channel.url, _json(discord_payload(t)), headers)
    body = _json(webhook_body(t, key))
    headers[TIMESTAMP_HEADER] = str(timestamp)
    headers[SIGNATURE_HEADER] = sign(channel.secret, timestamp, body)
    return HttpRequest(channel.url, body, headers)


# ---------------------------------------------------------------- the signature


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``<timestamp>.`` + body), as Stripe signs:
    the timestamp is inside the MAC, so an old request cannot be replayed with a new one."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    *,
    signature: str,
    timestamp: str,
    body: bytes,
    now: float,
    tolerance_s: float = SIGNATURE_TOLERANCE_S,
) -> bool:
    """What a receiver does: the signature matches (constant-time) and the timestamp
    is within ``tolerance_s`` of ``now``."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


# ------------------------------------------------------- from a stored definition


class ChannelInvalid(ValueError):
    """A channel definition that cannot be sent through (a missing setting or secret)."""


SECRET_FIELDS: dict[ChannelKind, tuple[str, ...]] = {
    ChannelKind.EMAIL: ("password",),
    ChannelKind.SLACK: ("url",),
    ChannelKind.DISCORD: ("url",),
    ChannelKind.WEBHOOK: ("url", "signing_secret"),
}
"""What is sealed per kind: never in an event, log or the read model in plaintext."""


def secret_binding(tenant: str, channel_id: str) -> str:
    """What a channel's sealed secrets are bound to: copied to another channel or
    tenant, they do not open."""
    return f"{tenant}/channel/{channel_id}"


def channel_of(kind: str, settings: dict[str, Any], secrets: dict[str, str]) -> Channel:
    """The channel a definition describes, its secrets opened; :class:`ChannelInvalid`
    names what is missing (never a secret's value)."""

    def need(source: dict[str, Any], name: str) -> Any:
        value = source.get(name)
        if value in (None, "", []):
            raise ChannelInvalid(f"a {kind} channel needs {name}")
        return value

    try:
        known = ChannelKind(kind)
    except ValueError:
        raise ChannelInvalid(f"unknown channel kind {kind!r}") from None
    if known is ChannelKind.SLACK:
        return SlackChannel(url=need(secrets, "url"))
    if known is ChannelKind.DISCORD:
        return DiscordChannel(url=need(secrets, "url"))
    if known is ChannelKind.WEBHOOK:
        return WebhookChannel(url=need(secrets, "url"), secret=need(secrets, "signing_secret"))
    return EmailChannel(
        host=need(settings, "host"),
        port=int(settings.get("port") or 587),
        sender=need(settings, "sender"),
        recipients=tuple(need(settings, "recipients")),
        username=settings.get("username"),
        password=secrets.get("password"),
        starttls=bool(settings.get("starttls", True)),
    )
