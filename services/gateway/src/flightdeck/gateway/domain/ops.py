"""Ops requests at the gateway (ADR 0022): ids, digests, the per-tenant rate, what blocks one.

Pure: the rate limit is a token bucket per tenant, given the time by its caller.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import msgspec

from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.audit import OpsAction
from flightdeck.events.cluster import PodObserved
from flightdeck.events.deployments import (
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentStatus,
)
from flightdeck.gateway.domain.errors import ApiError, ErrorCode

MAX_REPLICAS = 50
TERMINAL = (DeploymentCompleted, DeploymentFailed, DeploymentCancelled)


def action_id_for(tenant: str, idempotency_key: str) -> str:
    """An action id derived from the client's ``Idempotency-Key``, per tenant: a retry
    lands on the same action from any gateway, after any restart (as ADR 0020's deploys)."""
    digest = hashlib.sha256(f"ops\x00{tenant}\x00{idempotency_key}".encode()).hexdigest()
    return digest[:32]


def request_digest(
    action: OpsAction, app: str, namespace: str, target: str, replicas: int | None
) -> str:
    """What was asked, so the same key with another request is told from a retry."""
    body = {"action": action.value, "app": app, "namespace": namespace, "target": target}
    if replicas is not None:
        body["replicas"] = str(replicas)
    return hashlib.sha256(msgspec.json.encode(dict(sorted(body.items())))).hexdigest()


def command_id_for(action_id: str, digest: str) -> str:
    """The command's message id: identical retries racing each other are one message."""
    return f"ops-{action_id}-{digest[:16]}"


def slot_busy(last_slot_event: Any) -> str | None:
    """The deployment holding the app, if its slot's last event is a claim."""
    return last_slot_event.deployment_id if isinstance(last_slot_event, AppSlotClaimed) else None


def serving(last_slot_event: Any) -> str | None:
    """The colour serving the app, from its slot's last event (a release)."""
    if isinstance(last_slot_event, AppReleased) and last_slot_event.serving_colour is not None:
        return last_slot_event.serving_colour.value
    if isinstance(last_slot_event, AppSlotClaimed) and last_slot_event.previous_colour:
        return last_slot_event.previous_colour.value
    return None


def successful_releases(slot_events: list[Any]) -> int:
    return sum(
        1
        for e in slot_events
        if isinstance(e, AppReleased) and e.outcome is DeploymentStatus.SUCCEEDED
    )


def live_pod_of(observed: Any, app: str) -> bool:
    """Is the last observation of a pod a live pod of ``app``? (label ``app``)."""
    return (
        isinstance(observed, PodObserved)
        and observed.labels.get("app") == app
        and not observed.terminating
    )


@dataclass
class OpsRate:
    """A token bucket per tenant: ``burst`` actions at once, refilled at ``per_minute``.

    A tenant past its rate is refused with ``RATE_LIMITED`` and a ``Retry-After`` of
    the whole seconds until its next token (RFC 9110).
    """

    per_minute: float
    burst: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def admit(self, tenant: str, now: float) -> None:
        tokens, at = self._buckets.get(tenant, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_minute / 60.0)
        if tokens < 1.0:
            wait = math.ceil((1.0 - tokens) * 60.0 / self.per_minute)
            self._buckets[tenant] = (tokens, now)
            raise ApiError(
                ErrorCode.RATE_LIMITED,
                f"your tenant may run {self.per_minute:g} ops actions a minute "
                f"(bursts of {self.burst}); retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        self._buckets[tenant] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # tenants are few; never grow without bound
            self._buckets.clear()
