"""Uptime monitors and their incidents: ``fd.evt.monitor.<monitor_id>``."""

from __future__ import annotations

import json
from datetime import datetime

from flightdeck.events.audit import SealedSecret
from flightdeck.events.base import Event
from flightdeck.events.upcasting import Payload, upcaster


class MonitorCreated(Event, frozen=True, kw_only=True, tag="monitor.created"):
    """A tenant's uptime monitor (schema v2, ADR 0027).

    It checks ``url`` or, instead, the app ``app_name`` deployed by the tenant. A
    check passes when every one of ``conditions`` holds (Gatus-style expressions such
    as ``[STATUS] in 200..299`` or ``$.status == "ok"``, see docs/api.md). Headers
    whose value is a credential (``Authorization`` …) are in ``secret_headers``,
    sealed under the installation's key and bound to tenant, monitor and header
    (:func:`flightdeck.runtime.sealing.monitor_header_binding`); ``headers`` holds
    only the others. v1 had ``expected_status``, ``body_contains`` and
    ``recovery_threshold``: the upcaster turns them into conditions and
    ``success_threshold``.
    """

    schema_version = 2

    monitor_id: str
    tenant: str
    name: str
    url: str | None = None
    app_name: str | None = None
    method: str = "GET"
    headers: dict[str, str] = {}
    secret_headers: dict[str, SealedSecret] = {}
    body: str | None = None
    interval_s: float = 60.0
    timeout_s: float = 10.0
    conditions: list[str] = []
    failure_threshold: int = 3
    success_threshold: int = 2
    paused: bool = False


class MonitorUpdated(Event, frozen=True, kw_only=True, tag="monitor.updated"):
    """The monitor's new settings, whole (not a diff), so a fold stays trivial (schema v2:
    the fields of :class:`MonitorCreated` but the tenant, which never changes)."""

    schema_version = 2

    monitor_id: str
    name: str
    url: str | None = None
    app_name: str | None = None
    method: str = "GET"
    headers: dict[str, str] = {}
    secret_headers: dict[str, SealedSecret] = {}
    body: str | None = None
    interval_s: float = 60.0
    timeout_s: float = 10.0
    conditions: list[str] = []
    failure_threshold: int = 3
    success_threshold: int = 2
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


def _v1_checks_as_conditions(payload: Payload) -> Payload:
    """v1 -> v2: ``expected_status`` and ``body_contains`` become conditions,
    ``recovery_threshold`` is called ``success_threshold``."""
    out = {
        k: v
        for k, v in payload.items()
        if k not in ("expected_status", "body_contains", "recovery_threshold")
    }
    conditions = [f"[STATUS] == {int(payload.get('expected_status', 200))}"]
    if payload.get("body_contains") is not None:
        conditions.append(f"[BODY] contains {json.dumps(payload['body_contains'])}")
    out["conditions"] = conditions
    if "recovery_threshold" in payload:
        out["success_threshold"] = payload["recovery_threshold"]
    return out


upcaster(MonitorCreated.type_name(), 1)(_v1_checks_as_conditions)
upcaster(MonitorUpdated.type_name(), 1)(_v1_checks_as_conditions)


@upcaster(NotificationSent.type_name(), 1)
def _notification_sent_v2(payload: Payload) -> Payload:
    """v1 -> v2: v1 did not say which transition, nor carry a key; an attempt was one."""
    return {"transition": None, "idempotency_key": None, "attempt": 1, **payload}
