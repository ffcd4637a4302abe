"""What happens next to a deployment: ``decide(state, input, now) -> events``.

Pure: the same state, input and time always give the same events. Stages
run Artifact → Apply → Rollout → Expose → Verify → Switch → Complete; every
started stage ends in exactly one StageSucceeded or StageFailed, and every
deployment in exactly one DeploymentCompleted, DeploymentFailed or
DeploymentCancelled. A failure before Switch never touches the app Service,
so the old colour keeps serving.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flightdeck.events.base import Event
from flightdeck.events.commands import CancelDeployment
from flightdeck.events.deployments import (
    OVERALL_TIMEOUT,
    ColourAssigned,
    DeploymentFailed,
    DeploymentStatus,
    Stage,
    StageProgressed,
    TrafficSwitched,
    colour_name,
)
from flightdeck.orchestrator.domain import state
from flightdeck.orchestrator.domain.endings import complete, fail, finish_ending, time_out
from flightdeck.orchestrator.domain.inputs import (
    Busy,
    EffectDone,
    Input,
    Observed,
    Refused,
    Resume,
    Start,
    Tick,
)
from flightdeck.orchestrator.domain.observing import OBSERVERS
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.domain.rollout import (
    ErrorCode,
    stage_timeout_code,
)
from flightdeck.orchestrator.domain.stages import next_stage, open_stage
from flightdeck.orchestrator.domain.state import Deployment
from flightdeck.orchestrator.domain.timing import ms, overall_deadline

Events = list[Event]
DEFAULT_POLICY = Policy()


def decide(s: Deployment, given: Input, now: datetime, policy: Policy = DEFAULT_POLICY) -> Events:
    """The events that follow from ``given`` in state ``s`` at ``now``; ``[]`` if nothing does."""
    if s.finished:
        return []
    if isinstance(given, Observed):
        if s.ending is not None or s.stage is None:
            return []
        observe = OBSERVERS.get(type(given.event))
        return observe(s, given.event, given.position, now, policy) if observe else []
    handler = _HANDLERS.get(type(given))
    return handler(s, given, now, policy) if handler else []


# ------------------------------------------------------------------ the start


def _start(s: Deployment, given: Start, now: datetime, policy: Policy) -> Events:
    if s.status is not DeploymentStatus.PENDING:
        return []
    return [
        ColourAssigned(colour=given.colour, previous_colour=given.previous),
        open_stage(Stage.ARTIFACT, s, now),
    ]


def _busy(s: Deployment, given: Busy, now: datetime, policy: Policy) -> Events:
    if s.status is not DeploymentStatus.PENDING:
        return []
    return [
        DeploymentFailed(
            stage=Stage.ARTIFACT,
            error_code=ErrorCode.APP_BUSY,
            message=f"deployment {given.holder} of {s.request.app} is still running",
            rolled_back=False,
            serving_colour=given.serving,
            total_duration_ms=ms(now - s.requested_at),
        )
    ]


def _refused(s: Deployment, given: Refused, now: datetime, policy: Policy) -> Events:
    """Defence in depth behind the gateway: a reserved namespace, or one that is not the
    deployment's tenant's, fails the deployment with its code before any cluster write."""
    if s.status is not DeploymentStatus.PENDING:
        return []
    return [
        DeploymentFailed(
            stage=Stage.ARTIFACT,
            error_code=given.code,
            message=given.message,
            rolled_back=False,
            serving_colour=None,
            total_duration_ms=ms(now - s.requested_at),
        )
    ]


# ------------------------------------------------------------ our own effects


def _effect_done(s: Deployment, done: EffectDone, now: datetime, policy: Policy) -> Events:
    if s.ending is not None:
        return finish_ending(s, now, done) if done.effect == state.CLEANUP else []
    if done.effect == state.APPLY and s.stage is Stage.APPLY:
        if done.error is None:
            return next_stage(s, now, Stage.ROLLOUT, {"objects": 4})
        return _effect_failed(
            s, done, now, policy, ErrorCode.APPLY_FAILED, ErrorCode.APPLY_REJECTED
        )
    if done.effect == state.SWITCH and s.stage is Stage.SWITCH and not s.switched:
        if done.error is not None:
            return _effect_failed(
                s, done, now, policy, ErrorCode.SWITCH_FAILED, ErrorCode.SWITCH_FAILED
            )
        return _switched(s, now)
    if done.effect == state.SCALE_DOWN and s.stage is Stage.SWITCH and s.switched:
        return complete(s, now, scaled_down=done.error is None, note=done.error)
    return []


def _switched(s: Deployment, now: datetime) -> Events:
    assert s.colour is not None
    moved = TrafficSwitched(
        service=s.request.app, from_colour=s.previous_colour, to_colour=s.colour
    )
    if s.previous_colour is None:
        return [moved, *complete(s, now, scaled_down=False, switched_now=True)]
    return [moved]


def _effect_failed(
    s: Deployment, done: EffectDone, now: datetime, policy: Policy, code: str, permanent_code: str
) -> Events:
    error = done.error or "unknown error"
    if done.permanent:
        return fail(s, now, permanent_code, f"{done.effect} refused: {error}")
    if s.attempts >= policy.effect_attempts:
        return fail(s, now, code, f"{done.effect} failed {s.attempts} times: {error}")
    assert s.stage is not None
    detail: state.DetailDict = {
        state.EFFECT: done.effect,
        state.ERROR: error,
        state.ATTEMPT: s.attempts,
    }
    message = f"{done.effect} failed (attempt {s.attempts}), retrying: {error}"
    return [StageProgressed(stage=s.stage, message=message, detail=detail)]


# ---------------------------------------------------------------- the clock


def _tick(s: Deployment, given: Tick, now: datetime, policy: Policy) -> Events:
    if s.ending is not None:
        return []
    if now >= overall_deadline(s, policy):
        if s.switched:
            return complete(s, now, scaled_down=False, note="deployment timeout before scale-down")
        timeout = (overall_deadline(s, policy) - s.requested_at).total_seconds()
        message = f"the deployment did not finish within {timeout:g}s"
        return time_out(s, now, OVERALL_TIMEOUT, timeout, message)
    if s.stage is None or s.stage_deadline is None:
        return []
    if s.switched:
        return _after_switch(s, now, policy)
    if now >= s.stage_deadline:
        reason = stage_timeout_code(s.stage.value)
        return time_out(s, now, reason, s.request.stage_timeout_s, _timeout_message(s))
    if s.effect_failed_at is not None and now >= s.effect_failed_at + _seconds(
        policy.retry_after_s
    ):
        effect = state.APPLY if s.stage is Stage.APPLY else state.SWITCH
        return [_issue(s.stage, effect, s.attempts + 1, f"retrying {effect}")]
    return []


def _timeout_message(s: Deployment) -> str:
    r, stage = s.request, s.stage
    if stage is Stage.ARTIFACT:
        return f"image {r.repository}:{r.tag} did not appear within {r.stage_timeout_s:g}s"
    return f"stage {stage.value if stage else '?'} did not finish within {r.stage_timeout_s:g}s"


def _after_switch(s: Deployment, now: datetime, policy: Policy) -> Events:
    """Traffic moved: scale the old colour down after the delay, then complete."""
    assert s.switched_at is not None and s.stage_deadline is not None
    if now >= s.stage_deadline:
        return complete(s, now, scaled_down=False, note="switch stage timed out before scale-down")
    if not s.scale_down_started and now >= s.switched_at + _seconds(policy.switch_delay_s):
        old = colour_name(s.request.app, s.previous_colour) if s.previous_colour else "-"
        return [_issue(Stage.SWITCH, state.SCALE_DOWN, 1, f"scaling down {old}")]
    return []


def _issue(stage: Stage, effect: str, attempt: int, message: str) -> StageProgressed:
    return StageProgressed(
        stage=stage, message=message, detail={state.EFFECT: effect, state.ATTEMPT: attempt}
    )


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


# ------------------------------------------------------------ resume, cancel


def _resume(s: Deployment, given: Resume, now: datetime, policy: Policy) -> Events:
    """Re-issue an effect that may have died with the replica that recorded it."""
    stale = s.last_event_at is None or now - s.last_event_at >= _seconds(policy.resume_after_s)
    if s.ending is not None:
        if not stale:
            return []
        return [_issue(s.ending.stage, state.CLEANUP, 1, "resuming clean-up after a restart")]
    stage = s.stage
    if stage is None:
        return []
    effect = _pending_own_effect(s)
    if effect is not None and stale and s.effect_failed_at is None:
        return [_issue(stage, effect, s.attempts + 1, f"resuming {effect} after a restart")]
    request = {Stage.ARTIFACT: state.WATCH_IMAGE, Stage.VERIFY: state.VERIFY}.get(stage)
    if given.requests and request is not None:
        return [_issue(stage, request, 1, f"re-sending the {request} request after a restart")]
    return []


def _pending_own_effect(s: Deployment) -> str | None:
    if s.stage is Stage.APPLY:
        return state.APPLY
    if s.stage is Stage.SWITCH and not s.switched:
        return state.SWITCH
    if s.stage is Stage.SWITCH and s.scale_down_started and not s.old_scaled_down:
        return state.SCALE_DOWN
    return None


def _cancel(s: Deployment, given: CancelDeployment, now: datetime, policy: Policy) -> Events:
    if s.switched or s.ending is not None or given.deployment_id != s.id:
        return []  # too late (the new colour serves), or already ending
    return fail(s, now, ErrorCode.CANCELLED, given.reason)


_HANDLERS: dict[type, Callable[[Deployment, Any, datetime, Policy], Events]] = {
    Start: _start,
    Busy: _busy,
    Refused: _refused,
    EffectDone: _effect_done,
    Tick: _tick,
    Resume: _resume,
    CancelDeployment: _cancel,
}
