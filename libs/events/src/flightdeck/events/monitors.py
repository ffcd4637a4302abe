"""Uptime monitors and their incidents: ``fd.evt.monitor.<monitor_id>``."""

from __future__ import annotations

from datetime import datetime

from flightdeck.events.base import Event


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
    monitor_id: str
    incident_id: str
    channel: str
    ok: bool
    error: str | None = None


MonitorEvent = (
    MonitorCreated
    | MonitorUpdated
    | MonitorDeleted
    | IncidentOpened
    | IncidentResolved
    | NotificationSent
)
