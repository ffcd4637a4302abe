"""A tenant's notification channels and what was sent through them:
``fd.evt.channel.<channel_id>`` (on the monitors' stream).

A channel's secrets (an SMTP password, a webhook URL, a signing secret) are only
ever here sealed (:class:`SealedSecret`, sealed by the gateway as AWS keys are,
bound to the tenant and the channel). ``settings`` holds what is not secret
(SMTP host, port, sender, recipients, user name, STARTTLS). A successful
attempt is :class:`~flightdeck.events.monitors.NotificationSent` (schema v2);
every failed one is :class:`NotificationFailed`.
"""

from __future__ import annotations

from flightdeck.events.audit import SealedSecret
from flightdeck.events.base import Event
from flightdeck.events.monitors import NotificationSent

ChannelSetting = str | int | bool | list[str] | None


class ChannelCreated(Event, frozen=True, kw_only=True, tag="channel.created"):
    """``kind``: email, slack, discord or webhook. ``url_hint``: the webhook's host, to
    tell channels apart without opening the URL (which may hold a token)."""

    channel_id: str
    tenant: str
    kind: str
    name: str
    settings: dict[str, ChannelSetting] = {}
    secrets: dict[str, SealedSecret] = {}
    url_hint: str | None = None


class ChannelDeleted(Event, frozen=True, kw_only=True, tag="channel.deleted"):
    channel_id: str


class ChannelBound(Event, frozen=True, kw_only=True, tag="channel.bound"):
    """The channel is told about the monitor's incidents from now on."""

    channel_id: str
    monitor_id: str


class ChannelUnbound(Event, frozen=True, kw_only=True, tag="channel.unbound"):
    channel_id: str
    monitor_id: str


class NotificationFailed(Event, frozen=True, kw_only=True, tag="channel.notification_failed"):
    """One attempt that the receiver did not take. ``status_code``/``excerpt``: its answer
    (``None`` when none came; ``error`` says why). ``dead_lettered``: the last attempt,
    given up for good; otherwise the next one follows in ``retry_in_s``."""

    channel_id: str
    monitor_id: str
    incident_id: str
    transition: str
    idempotency_key: str
    attempt: int
    status_code: int | None = None
    excerpt: str = ""
    error: str | None = None
    dead_lettered: bool = False
    retry_in_s: float | None = None


ChannelEvent = ChannelCreated | ChannelDeleted | ChannelBound | ChannelUnbound | NotificationFailed

__all__ = [
    "ChannelBound",
    "ChannelCreated",
    "ChannelDeleted",
    "ChannelEvent",
    "ChannelUnbound",
    "NotificationFailed",
    "NotificationSent",
]
