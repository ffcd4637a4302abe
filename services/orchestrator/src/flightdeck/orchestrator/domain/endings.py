"""How a deployment ends: completed, failed or cancelled, with the result it reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flightdeck.events.base import Event
from flightdeck.events.deployments import (
    TIMED_OUT,
    ColourScaledDown,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentStatus,
    Stage,
    StageFailed,
    StageProgressed,
    StageStarted,
    StageSucceeded,
    colour_name,
)
from flightdeck.orchestrator.domain.inputs import EffectDone
from flightdeck.orchestrator.domain.rollout import ErrorCode
from flightdeck.orchestrator.domain.state import Deployment
from flightdeck.orchestrator.domain.timing import ms


def reached_cluster(s: Deployment) -> bool:
    """Did the new colour (maybe) reach the cluster? Then a failure scales it to zero first."""
    return s.colour is not None and (s.applied or s.stage is Stage.APPLY)


@dataclass(frozen=True)
class Timeout:
    """Which timer ran out (``ROLLOUT_TIMEOUT``, ``OVERALL_TIMEOUT``…) and its length."""

    reason: str
    seconds: float


def fail(
    s: Deployment, now: datetime, code: str, message: str, timeout: Timeout | None = None
) -> list[Event]:
    """End the current stage with ``code``; the final event follows now, or after clean-up."""
    reason = timeout.reason if timeout else None
    timeout_s = timeout.seconds if timeout else None
    if s.stage is None or s.stage_started_at is None:
        return [_final(s, now, _status(code), s.stage, code, message, reason, timeout_s)]
    failed = StageFailed(
        stage=s.stage,
        error_code=code,
        message=message,
        duration_ms=ms(now - s.stage_started_at),
        reason=reason,
        timeout_s=timeout_s,
    )
    if reached_cluster(s):
        return [failed]  # the clean-up effect runs, then finish_ending records the end
    return [failed, _final(s, now, _status(code), s.stage, code, message, reason, timeout_s)]


def time_out(
    s: Deployment, now: datetime, reason: str, seconds: float, message: str
) -> list[Event]:
    """A timer ran out: Panda's one code, ``DEPLOYMENT_TIMEOUT``, whichever it was
    (ADR 0024); the timer is the failure's ``reason``."""
    return fail(s, now, TIMED_OUT, message, Timeout(reason, seconds))


def finish_ending(s: Deployment, now: datetime, cleanup: EffectDone) -> list[Event]:
    """Clean-up of the failed colour is done (or failed): record the end."""
    ending = s.ending
    assert ending is not None and s.colour is not None
    events: list[Event] = []
    message = ending.message
    if cleanup.error is None:
        name = colour_name(s.request.app, s.colour)
        events.append(ColourScaledDown(colour=s.colour, deployment_name=name))
    else:
        message = f"{message} (scaling {s.colour.value} down failed: {cleanup.error})"
    events.append(
        _final(
            s,
            now,
            ending.status,
            ending.stage,
            ending.error_code,
            message,
            ending.reason,
            ending.timeout_s,
        )
    )
    return events


def _status(code: str) -> DeploymentStatus:
    return DeploymentStatus.CANCELLED if code == ErrorCode.CANCELLED else DeploymentStatus.FAILED


def _final(
    s: Deployment,
    now: datetime,
    status: DeploymentStatus,
    stage: Stage | None,
    code: str,
    message: str,
    reason: str | None = None,
    timeout_s: float | None = None,
) -> Event:
    total = ms(now - s.requested_at)
    if status is DeploymentStatus.CANCELLED:
        return DeploymentCancelled(
            stage=stage, reason=message, serving_colour=s.previous_colour, total_duration_ms=total
        )
    return DeploymentFailed(
        stage=stage or Stage.ARTIFACT,
        error_code=code,
        message=message,
        rolled_back=s.applied or stage is Stage.APPLY,
        serving_colour=s.previous_colour,
        total_duration_ms=total,
        reason=reason,
        timeout_s=timeout_s,
    )


def complete(
    s: Deployment,
    now: datetime,
    *,
    scaled_down: bool,
    note: str | None = None,
    switched_now: bool = False,
) -> list[Event]:
    """Close Switch, run the (empty) Complete stage and record the result."""
    assert s.colour is not None and s.stage_started_at is not None
    events: list[Event] = []
    if scaled_down and s.previous_colour is not None:
        old = colour_name(s.request.app, s.previous_colour)
        events.append(ColourScaledDown(colour=s.previous_colour, deployment_name=old))
    if note:
        events.append(StageProgressed(stage=Stage.SWITCH, message=note))
    switch_ms = ms(now - s.stage_started_at)
    deadline = now + timedelta(seconds=s.request.stage_timeout_s)
    events += [
        StageSucceeded(stage=Stage.SWITCH, duration_ms=switch_ms),
        StageStarted(stage=Stage.COMPLETE, deadline=deadline),
        StageSucceeded(stage=Stage.COMPLETE, duration_ms=0),
    ]
    durations = {**s.durations, Stage.SWITCH.value: switch_ms, Stage.COMPLETE.value: 0}
    preview = s.access.get("preview_url")
    events.append(
        DeploymentCompleted(
            colour=s.colour,
            url=s.url,
            stage_durations_ms=durations,
            total_duration_ms=ms(now - s.requested_at),
            new_colour_stats=s.new_stats,
            old_colour_stats=s.old_stats,
            previous_colour=s.previous_colour,
            preview_url=preview if isinstance(preview, str) else None,
            event_count=s.event_count + len(events) + 1 + (1 if switched_now else 0),
        )
    )
    return events
