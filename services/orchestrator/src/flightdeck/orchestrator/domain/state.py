"""A deployment's state: a pure fold over its recorded events.

Nothing here decides anything; :func:`evolve` only remembers what the events
say, with the times they were recorded at, so a restarted orchestrator rebuilds
exactly the state (deadlines included) that the crashed one had.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    ColourScaledDown,
    ColourStats,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentRequested,
    DeploymentStatus,
    Stage,
    StageFailed,
    StageProgressed,
    StageStarted,
    StageSucceeded,
    TrafficSwitched,
)

# Keys of StageProgressed.detail that the fold reads back (the rest is for people).
POD = "pod"  # a pod's status changed during Rollout
SUMMARY = "summary"  # the Deployment's rollout summary changed
CHECK = "check"  # one health check of the new colour finished
EFFECT = "effect"  # an effect of ours was (re)issued, or failed when ERROR is set
ERROR = "error"
ATTEMPT = "attempt"
POSITION = "position"  # stream position of the observation behind the progress

# Effects the orchestrator performs itself, named in StageProgressed.detail[EFFECT].
APPLY = "apply"
SWITCH = "switch"
SCALE_DOWN = "scale_down"
CLEANUP = "cleanup"
WATCH_IMAGE = "watch_image"
VERIFY = "verify"

Detail = Mapping[str, str | int | float | bool | None]
DetailDict = dict[str, str | int | float | bool | None]


@dataclass(frozen=True)
class PodView:
    """What the timeline last said about one pod of the new colour."""

    status: str
    restarts: int
    position: int


@dataclass(frozen=True)
class Ending:
    """A stage failed (or the deployment was cancelled); the final event waits for clean-up."""

    status: DeploymentStatus
    stage: Stage
    error_code: str
    message: str
    reason: str | None = None
    timeout_s: float | None = None


@dataclass(frozen=True)
class Deployment:
    """Everything the decisions need to know about one deployment."""

    id: str
    request: DeploymentRequested
    correlation_id: str
    requested_at: datetime
    status: DeploymentStatus = DeploymentStatus.PENDING
    colour: Colour | None = None
    previous_colour: Colour | None = None
    stage: Stage | None = None
    stage_started_at: datetime | None = None
    stage_deadline: datetime | None = None
    durations: Mapping[str, int] = field(default_factory=dict)
    image_digest: str | None = None
    applied: bool = False
    attempts: int = 0
    effect_failed_at: datetime | None = None
    pods: Mapping[str, PodView] = field(default_factory=dict)
    summary: str | None = None
    summary_position: int = 0
    access: Mapping[str, Any] = field(default_factory=dict)
    checks: frozenset[int] = frozenset()
    new_stats: ColourStats | None = None
    old_stats: ColourStats | None = None
    switched_at: datetime | None = None
    scale_down_started: bool = False
    old_scaled_down: bool = False
    ending: Ending | None = None
    last_event_id: str = ""
    last_event_at: datetime | None = None
    event_count: int = 0

    @property
    def finished(self) -> bool:
        return self.status in (
            DeploymentStatus.SUCCEEDED,
            DeploymentStatus.FAILED,
            DeploymentStatus.CANCELLED,
        )

    @property
    def switched(self) -> bool:
        return self.switched_at is not None

    @property
    def url(self) -> str | None:
        value = self.access.get("url")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Loaded:
    """A deployment as loaded: its state, and the position of its last stored message
    (what the next append names for optimistic concurrency)."""

    state: Deployment
    position: int


def fold(records: Iterable[Recorded[Any]], state: Deployment | None = None) -> Deployment | None:
    """The state after ``records``; ``None`` until the deployment's request is seen."""
    for recorded in records:
        state = evolve(state, recorded)
    return state


def evolve(state: Deployment | None, recorded: Recorded[Any]) -> Deployment | None:
    """The state after one more event."""
    event = recorded.event
    if state is None:
        if not isinstance(event, DeploymentRequested):
            return None
        state = Deployment(
            id=event.deployment_id,
            request=event,
            correlation_id=recorded.correlation_id or recorded.id,
            requested_at=recorded.time,
        )
    else:
        applier = _APPLIERS.get(type(event))
        if applier is not None:
            state = applier(state, event, recorded)
    return replace(
        state,
        last_event_id=recorded.id,
        last_event_at=recorded.time,
        event_count=state.event_count + 1,
    )


def _colour_assigned(s: Deployment, e: ColourAssigned, r: Recorded[Any]) -> Deployment:
    return replace(
        s,
        colour=e.colour,
        previous_colour=e.previous_colour,
        status=DeploymentStatus.IN_PROGRESS,
    )


def _stage_started(s: Deployment, e: StageStarted, r: Recorded[Any]) -> Deployment:
    return replace(
        s,
        stage=e.stage,
        stage_started_at=r.time,
        stage_deadline=e.deadline,
        attempts=1 if e.stage in (Stage.APPLY, Stage.SWITCH) else 0,
        effect_failed_at=None,
    )


def _stage_progressed(s: Deployment, e: StageProgressed, r: Recorded[Any]) -> Deployment:
    d = e.detail
    if POD in d:
        pods = {
            **s.pods,
            str(d[POD]): PodView(
                str(d.get("status")), _int(d.get("restarts")), _int(d.get(POSITION))
            ),
        }
        return replace(s, pods=pods)
    if SUMMARY in d:
        return replace(s, summary=str(d[SUMMARY]), summary_position=_int(d.get(POSITION)))
    if CHECK in d:
        return replace(s, checks=s.checks | {_int(d[CHECK])})
    if EFFECT in d:
        if d.get(ERROR) is not None:
            return replace(s, effect_failed_at=r.time)
        started = s.scale_down_started or d[EFFECT] == SCALE_DOWN
        return replace(
            s, attempts=_int(d.get(ATTEMPT)), effect_failed_at=None, scale_down_started=started
        )
    return s


def _stage_succeeded(s: Deployment, e: StageSucceeded, r: Recorded[Any]) -> Deployment:
    durations = {**s.durations, e.stage.value: e.duration_ms}
    s = replace(s, stage=None, stage_deadline=None, durations=durations, effect_failed_at=None)
    if e.stage is Stage.ARTIFACT:
        digest = e.detail.get("digest")
        return replace(s, image_digest=digest if isinstance(digest, str) else None)
    if e.stage is Stage.APPLY:
        return replace(s, applied=True)
    if e.stage is Stage.EXPOSE:
        return replace(s, access=dict(e.detail))
    if e.stage is Stage.VERIFY:
        return replace(
            s,
            new_stats=stats_from_detail("new", e.detail),
            old_stats=stats_from_detail("old", e.detail),
        )
    return s


def _stage_failed(s: Deployment, e: StageFailed, r: Recorded[Any]) -> Deployment:
    status = DeploymentStatus.CANCELLED if e.error_code == "CANCELLED" else DeploymentStatus.FAILED
    ending = Ending(
        status=status,
        stage=e.stage,
        error_code=e.error_code,
        message=e.message,
        reason=e.reason,
        timeout_s=e.timeout_s,
    )
    durations = {**s.durations, e.stage.value: e.duration_ms}
    return replace(s, stage=None, stage_deadline=None, ending=ending, durations=durations)


def _traffic_switched(s: Deployment, e: TrafficSwitched, r: Recorded[Any]) -> Deployment:
    return replace(s, switched_at=r.time)


def _scaled_down(s: Deployment, e: ColourScaledDown, r: Recorded[Any]) -> Deployment:
    if s.switched and e.colour == s.previous_colour:
        return replace(s, old_scaled_down=True)
    return s


def _completed(s: Deployment, e: DeploymentCompleted, r: Recorded[Any]) -> Deployment:
    return replace(s, status=DeploymentStatus.SUCCEEDED, stage=None, stage_deadline=None)


def _failed(s: Deployment, e: DeploymentFailed, r: Recorded[Any]) -> Deployment:
    return replace(s, status=DeploymentStatus.FAILED, stage=None, stage_deadline=None)


def _cancelled(s: Deployment, e: DeploymentCancelled, r: Recorded[Any]) -> Deployment:
    return replace(s, status=DeploymentStatus.CANCELLED, stage=None, stage_deadline=None)


_APPLIERS: dict[type, Any] = {
    ColourAssigned: _colour_assigned,
    StageStarted: _stage_started,
    StageProgressed: _stage_progressed,
    StageSucceeded: _stage_succeeded,
    StageFailed: _stage_failed,
    TrafficSwitched: _traffic_switched,
    ColourScaledDown: _scaled_down,
    DeploymentCompleted: _completed,
    DeploymentFailed: _failed,
    DeploymentCancelled: _cancelled,
}


def stats_detail(prefix: str, stats: ColourStats | None) -> dict[str, str | int | float | None]:
    """A colour's verification figures, flattened into a StageSucceeded detail."""
    if stats is None:
        return {}
    return {
        f"{prefix}_colour": stats.colour.value,
        f"{prefix}_checks": stats.checks,
        f"{prefix}_failures": stats.failures,
        f"{prefix}_latency_p50_ms": stats.latency_p50_ms,
        f"{prefix}_latency_p99_ms": stats.latency_p99_ms,
        f"{prefix}_error_rate": stats.error_rate,
    }


def stats_from_detail(prefix: str, detail: Detail) -> ColourStats | None:
    colour = detail.get(f"{prefix}_colour")
    if not isinstance(colour, str):
        return None
    return ColourStats(
        colour=Colour(colour),
        checks=_int(detail.get(f"{prefix}_checks")),
        failures=_int(detail.get(f"{prefix}_failures")),
        latency_p50_ms=_float_or_none(detail.get(f"{prefix}_latency_p50_ms")),
        latency_p99_ms=_float_or_none(detail.get(f"{prefix}_latency_p99_ms")),
        error_rate=_float_or_none(detail.get(f"{prefix}_error_rate")) or 0.0,
    )


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _float_or_none(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
