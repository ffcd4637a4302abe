"""Durations and deadlines, all from event times, so a restart re-arms them unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta

from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.domain.state import Deployment


def ms(delta: timedelta) -> int:
    """Whole milliseconds, never negative (clocks of two replicas may differ slightly)."""
    return max(0, int(delta.total_seconds() * 1000))


def overall_timeout_s(s: Deployment, policy: Policy) -> float:
    requested = s.request.overall_timeout_s
    return min(requested, policy.max_timeout_s) if policy.max_timeout_s else requested


def overall_deadline(s: Deployment, policy: Policy) -> datetime:
    return s.requested_at + timedelta(seconds=overall_timeout_s(s, policy))


def next_wakeup(s: Deployment, policy: Policy) -> datetime | None:
    """When a Tick may change something: a deadline, a retry, the scale-down after Switch."""
    if s.finished or s.ending is not None:
        return None
    times = [overall_deadline(s, policy)]
    if s.stage_deadline is not None:
        times.append(s.stage_deadline)
    if s.effect_failed_at is not None:
        times.append(s.effect_failed_at + timedelta(seconds=policy.retry_after_s))
    if s.switched_at is not None and s.previous_colour is not None and not s.scale_down_started:
        times.append(s.switched_at + timedelta(seconds=policy.switch_delay_s))
    return min(times)
