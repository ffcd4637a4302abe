"""Uptime monitors and their incidents: ``fd.evt.monitor.<monitor_id>``."""

from __future__ import annotations

from datetime import datetime

from flightdeck.events.base import Event
from flightdeck.events.upcasting import Payload, upcaster


class MonitorCreated(Event, frozen=True, kw_only=True, tag="monitor.created"):
    monitor_id: str
    tenant: str
    name: str
    url: str
    interval_s: float = 60.0
    timeout_s: float = 10.0
    expected_status: int = 200
    body_contains: str | None = None
    failure_threshold: int = 3
    recovery_threshold: int = 2


class MonitorUpdated(Event, frozen=True, kw_only=True, tag="monitor.updated"):
    """The monitor's new settings, whole (not a diff), so a fold stays trivial."""

    monitor_id: str
    name: str
    url: str
    interval_s: float
    timeout_s: float
    expected_status: int
    body_contains: str | None
    failure_threshold: int
    recovery_threshold: int
    paused: bool = False


class MonitorDeleted(Event, frozen=True, kw_only=True, tag="monitor.deleted"):
    monitor_id: str


class IncidentOpened(Event, frozen=True, kw_only=True, tag="monitor.incident_opened"):
    incident_id: str
    monitor_id: str
    cause: str
    started_at: datetime


class IncidentResolved(Event, frozen=True, kw_only=True, tag="monitor.incident_resolved"):
    incident_id: str
    monitor_id: str
    resolved_at: datetime
    duration_s: float


class NotificationSent(Event, frozen=True, kw_only=True, tag="monitor.notification_sent"):
    """A channel's receiver took the notification of one incident transition (schema v2).

    Written on the channel's subject (``fd.evt.channel.<channel>``) by the notifier,
    which looks for one with the same ``idempotency_key`` there before it sends
    (ADR 0028). ``status_code`` and ``excerpt`` are the receiver's answer (an HTTP
    status or an SMTP reply, and the start of its body). v1 (``ok``/``error`` alone)
    is upcast with ``transition``/``idempotency_key`` unknown (``None``).
    """

    schema_version = 2

    monitor_id: str
    incident_id: str
    channel: str
    ok: bool
    error: str | None = None
    transition: str | None
    idempotency_key: str | None
    attempt: int = 1
    status_code: int | None = None
    excerpt: str = ""


MonitorEvent = (
    MonitorCreated
    | MonitorUpdated
    | MonitorDeleted
    | IncidentOpened
    | IncidentResolved
    | NotificationSent
)


@upcaster(NotificationSent.type_name(), 1)
def _notification_sent_v2(payload: Payload) -> Payload:
    """v1 -> v2: v1 did not say which transition, nor carry a key; an attempt was one."""
    return {"transition": None, "idempotency_key": None, "attempt": 1, **payload}
