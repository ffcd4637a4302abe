"""The deployment aggregate: one subject per deployment, ``fd.evt.deploy.<id>``."""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from flightdeck.events.base import Event
from flightdeck.events.upcasting import Payload, upcaster

TIMED_OUT = "DEPLOYMENT_TIMEOUT"
"""The one error code of every timeout, stage or overall (Panda's); which timer ran
out is the failure's ``reason`` (``ROLLOUT_TIMEOUT``, ``OVERALL_TIMEOUT``…), ADR 0024."""
OVERALL_TIMEOUT = "OVERALL_TIMEOUT"


class Stage(enum.StrEnum):
    """The pipeline's stages, in the order they run."""

    ARTIFACT = "artifact"
    APPLY = "apply"
    ROLLOUT = "rollout"
    EXPOSE = "expose"
    VERIFY = "verify"
    SWITCH = "switch"
    COMPLETE = "complete"


class Colour(enum.StrEnum):
    """Blue/green: the two slots an app's Deployments alternate between."""

    BLUE = "blue"
    GREEN = "green"

    def other(self) -> Colour:
        return Colour.GREEN if self is Colour.BLUE else Colour.BLUE


def colour_name(app: str, colour: Colour | str) -> str:
    """``<app>-<colour>``: the Kubernetes Deployment and Service of one colour of an app,
    and so the prefix of its pods' names (``<app>-<colour>-<hash>-<id>``).

    The one place this rule is written: the orchestrator names what it applies with
    it, the gateway recognises a deployment's pods by it.
    """
    return f"{app}-{Colour(colour).value}"


class DeploymentStatus(enum.StrEnum):
    """A deployment's overall state, as the result API reports it."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class ColourStats(msgspec.Struct, frozen=True, kw_only=True):
    """Health-check figures measured for one colour during Verify."""

    colour: Colour
    checks: int
    failures: int
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    error_rate: float = 0.0


class DeploymentRequested(Event, frozen=True, kw_only=True, tag="deploy.requested"):
    """The orchestrator accepted a ``StartDeployment``: everything the pipeline needs to run.

    The first event of every deployment; built only by
    :func:`flightdeck.events.commands.deployment_requested`.
    """

    deployment_id: str
    tenant: str
    app: str
    namespace: str
    repository: str
    tag: str
    image: str
    replicas: int = 2
    container_port: int = 8080
    health_path: str = "/health"
    env: dict[str, str] = {}
    verify_checks: int = 5
    stage_timeout_s: float = 600.0
    overall_timeout_s: float = 1800.0
    aws_connection_id: str | None = None
    github_connection_id: str | None = None
    branch: str | None = None
    commit_sha: str | None = None
    request_digest: str | None = None
    """SHA-256 of the API request it came from, so that a retried ``Idempotency-Key``
    with another body is told apart from a retry (ADR 0020); ``None`` otherwise."""
    github_owner: str | None = None
    """The GitHub repository the image was built from (a deploy from a branch)."""
    github_repo: str | None = None


class ColourAssigned(Event, frozen=True, kw_only=True, tag="deploy.colour_assigned"):
    """The orchestrator chose the slot the new version goes to."""

    colour: Colour
    previous_colour: Colour | None


class StageStarted(Event, frozen=True, kw_only=True, tag="deploy.stage_started"):
    stage: Stage
    deadline: datetime


class StageProgressed(Event, frozen=True, kw_only=True, tag="deploy.stage_progressed"):
    """Something worth showing happened inside a stage (a pod came up, a check passed)."""

    stage: Stage
    message: str
    detail: dict[str, str | int | float | bool | None] = {}


class StageSucceeded(Event, frozen=True, kw_only=True, tag="deploy.stage_succeeded"):
    stage: Stage
    duration_ms: int
    detail: dict[str, str | int | float | bool | None] = {}


class StageFailed(Event, frozen=True, kw_only=True, tag="deploy.stage_failed"):
    """A stage ended in failure; a timeout has ``error_code`` :data:`TIMED_OUT`, the timer
    that ran out in ``reason`` and its length in ``timeout_s`` (schema v2)."""

    schema_version = 2

    stage: Stage
    error_code: str
    message: str
    duration_ms: int
    reason: str | None = None
    timeout_s: float | None = None


class TrafficSwitched(Event, frozen=True, kw_only=True, tag="deploy.traffic_switched"):
    """The Service selector now points at ``to_colour``."""

    service: str
    from_colour: Colour | None
    to_colour: Colour


class ColourScaledDown(Event, frozen=True, kw_only=True, tag="deploy.colour_scaled_down"):
    """The old colour's Deployment was scaled to zero after the switch delay."""

    colour: Colour
    deployment_name: str


class DeploymentCompleted(Event, frozen=True, kw_only=True, tag="deploy.completed"):
    """The final, successful result: what the result API reports."""

    colour: Colour
    url: str | None
    stage_durations_ms: dict[str, int]
    total_duration_ms: int
    new_colour_stats: ColourStats | None = None
    old_colour_stats: ColourStats | None = None
    previous_colour: Colour | None = None
    preview_url: str | None = None
    event_count: int | None = None


class DeploymentFailed(Event, frozen=True, kw_only=True, tag="deploy.failed"):
    """The final, failed result. ``serving_colour`` is what still takes traffic; a
    timeout is told as in :class:`StageFailed` (schema v2)."""

    schema_version = 2

    stage: Stage
    error_code: str
    message: str
    rolled_back: bool
    serving_colour: Colour | None
    total_duration_ms: int
    reason: str | None = None
    timeout_s: float | None = None


class DeploymentCancelled(Event, frozen=True, kw_only=True, tag="deploy.cancelled"):
    stage: Stage | None
    reason: str
    serving_colour: Colour | None
    total_duration_ms: int


DeploymentEvent = (
    DeploymentRequested
    | ColourAssigned
    | StageStarted
    | StageProgressed
    | StageSucceeded
    | StageFailed
    | TrafficSwitched
    | ColourScaledDown
    | DeploymentCompleted
    | DeploymentFailed
    | DeploymentCancelled
)


def _timeouts_as_one_code(payload: Payload) -> Payload:
    """v1 -> v2: v1 wrote each timer's own code (``ROLLOUT_TIMEOUT``; ``DEPLOYMENT_TIMEOUT``
    for the overall one); v2 writes :data:`TIMED_OUT` with the timer as ``reason``."""
    code = payload.get("error_code")
    if isinstance(code, str) and code.endswith("_TIMEOUT"):
        reason = OVERALL_TIMEOUT if code == TIMED_OUT else code
        return {**payload, "error_code": TIMED_OUT, "reason": reason}
    return payload


upcaster(StageFailed.type_name(), 1)(_timeouts_as_one_code)
upcaster(DeploymentFailed.type_name(), 1)(_timeouts_as_one_code)
