"""The API's request and response bodies (msgspec Structs, camelCase on the wire).

``XCreate`` is what a client sends, ``X`` what it gets back. REST success
bodies are wrapped in the Panda envelope ``{code, message, data}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import Meta

from flightdeck.gateway.domain import inputs
from flightdeck.gateway.domain.errors import ErrorCode
from flightdeck.gateway.domain.inputs import whole
from flightdeck.gateway.domain.logrender import GapPayload, LinePayload

T = TypeVar("T")

DNS_LABEL = whole(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
GITHUB_NAME = whole(r"[A-Za-z0-9_.-]+")

AppName = Annotated[str, Meta(pattern=DNS_LABEL, min_length=1, max_length=53)]
Namespace = Annotated[str, Meta(pattern=DNS_LABEL, min_length=1, max_length=63)]
ID = whole(r"[A-Za-z0-9_-]+")
Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=ID)]
Text = Annotated[str, Meta(min_length=1, max_length=256)]
# Secrets travel in HTTP headers upstream: printable ASCII without spaces only.
Secret = Annotated[str, Meta(min_length=1, max_length=4096, pattern=whole(r"[\x21-\x7e]+"))]
ImageRepository = Annotated[
    str,
    Meta(
        pattern=inputs.IMAGE_REPOSITORY,
        min_length=1,
        max_length=inputs.IMAGE_REPOSITORY_MAX,
        description="An OCI image name: [registry[:port]/]path/components (lowercase)",
    ),
]
ImageTag = Annotated[
    str, Meta(pattern=inputs.IMAGE_TAG, min_length=1, max_length=128, description="An OCI tag")
]
HealthPath = Annotated[
    str,
    Meta(
        pattern=inputs.HEALTH_PATH,
        min_length=1,
        max_length=inputs.HEALTH_PATH_MAX,
        description="An absolute URL path (no . or .. segments), optionally with a query",
    ),
]
EnvName = Annotated[str, Meta(pattern=inputs.ENV_NAME, min_length=1, max_length=128)]
Env = Annotated[
    dict[EnvName, Annotated[str, Meta(max_length=inputs.ENV_MAX_BYTES)]],
    Meta(
        max_length=inputs.ENV_MAX_ENTRIES,
        description=f"At most {inputs.ENV_MAX_ENTRIES} variables named like C identifiers, "
        f"{inputs.ENV_MAX_BYTES} bytes of names and values in total",
    ),
]
Branch = Annotated[str, Meta(pattern=inputs.GIT_BRANCH, min_length=1, max_length=256)]


def _refuse(problem: str | None) -> None:
    """msgspec turns a ``ValueError`` in ``__post_init__`` into a validation error."""
    if problem is not None:
        raise ValueError(problem)


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Every REST success: ``code`` mirrors the HTTP status."""

    code: int
    message: str
    data: T


# ------------------------------------------------------------------ deployments


GithubName = Annotated[str, Meta(pattern=GITHUB_NAME, min_length=1, max_length=100)]


class DeployCreate(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A deploy request: an image (repository + tag) or a GitHub branch whose SHA is the tag.

    Panda's body (``githubConnectionId, awsConnectionId, owner, repo, branch``) is one
    of these: without ``appName`` the app is named after ``repo`` (ADR 0024).
    """

    app_name: AppName | None = None
    image_repository: ImageRepository | None = None
    image_tag: ImageTag | None = None
    github_connection_id: Id | None = None
    branch: Branch | None = None
    aws_connection_id: Id | None = None
    replicas: Annotated[int, Meta(ge=1, le=50)] = 2
    port: Annotated[int, Meta(ge=1, le=65535)] = 8080
    health_path: HealthPath = "/health"
    env: Env = {}
    namespace: Namespace = "default"
    owner: GithubName | None = None
    """Panda: the GitHub repository's owner (with ``repo`` and ``githubConnectionId``)."""
    repo: GithubName | None = None
    """Panda: the GitHub repository; the app's name (and image repository) by default."""

    def __post_init__(self) -> None:
        _refuse(inputs.health_path_problem(self.health_path))
        _refuse(inputs.env_problem(self.env))
        if self.branch is not None:
            _refuse(inputs.branch_problem(self.branch))


class DeployAccepted(msgspec.Struct, kw_only=True, rename="camel"):
    deployment_id: str
    status: str
    image: str
    events_url: str
    result_url: str


class ColourFigures(msgspec.Struct, kw_only=True, rename="camel"):
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    error_rate: float | None


class StageResult(msgspec.Struct, kw_only=True, rename="camel"):
    stage: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    message: str | None
    error_code: str | None


class ResultError(msgspec.Struct, kw_only=True, rename="camel"):
    """Panda's error object of a failed deployment: ``status`` 408 for a timeout."""

    status: int
    error: str
    error_code: str
    reason: str | None
    """The stage-specific reason of a timeout (``ROLLOUT_TIMEOUT``, ``OVERALL_TIMEOUT``)."""
    message: str | None
    stage: str | None
    stage_number: int
    duration_seconds: float | None
    timeout_seconds: float | None


class DeploymentResult(msgspec.Struct, kw_only=True, rename="camel"):
    """The result: where a deployment stands, or how it ended, in our words and Panda's
    (ADR 0024: ``status`` is Panda's, ``phase`` ours)."""

    deployment_id: str
    app_name: str
    namespace: str
    image: str
    branch: str | None
    commit_sha: str | None
    status: str
    """Panda's: PENDING, RUNNING, COMPLETED or FAILED."""
    phase: str
    """Ours: PENDING, IN_PROGRESS, SUCCEEDED, FAILED or CANCELLED."""
    stage: str | None
    colour: str | None
    previous_colour: str | None
    serving_colour: str | None
    url: str | None
    error_code: str | None
    error_message: str | None
    error_stage: str | None
    rolled_back: bool
    total_duration_ms: int | None
    stage_durations_ms: dict[str, int]
    stages: list[StageResult]
    new_colour: ColourFigures | None
    old_colour: ColourFigures | None
    event_count: int
    last_position: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    error_reason: str | None
    timeout_seconds: float | None
    error: ResultError | None
    # Panda's names for what the fields above say (ADR 0024)
    owner: str | None
    repo: str | None
    started_at: datetime
    completed_at: datetime | None
    duration_seconds: float | None
    final_service: str | None
    blue_url: str | None
    green_url: str | None
    blue_latency_ms: float | None
    green_latency_ms: float | None
    blue_error_rate: float | None
    green_error_rate: float | None


class DeploymentSummary(msgspec.Struct, kw_only=True, rename="camel"):
    deployment_id: str
    app_name: str
    namespace: str
    image: str
    status: str
    """Panda's, as in the result."""
    phase: str
    stage: str | None
    url: str | None
    error_code: str | None
    created_at: datetime
    finished_at: datetime | None


class Page(msgspec.Struct, Generic[T], kw_only=True):
    items: list[T]
    total: int
    limit: int
    offset: int


# ------------------------------------------------------------------ connections


class AwsConnectionCreate(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    access_key_id: Annotated[str, Meta(pattern=whole(r"[A-Z0-9]{16,128}"))]
    secret_access_key: Secret
    region: Annotated[str, Meta(pattern=whole(r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"), max_length=32)] = (
        "us-east-1"
    )
    session_token: Secret | None = None


class AwsConnection(msgspec.Struct, kw_only=True, rename="camel"):
    aws_connection_id: str
    account_id: str
    arn: str
    region: str
    access_key_hint: str


class GithubConnectionCreate(
    msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    owner: Annotated[str, Meta(pattern=GITHUB_NAME, max_length=100)]
    repo: Annotated[str, Meta(pattern=GITHUB_NAME, max_length=100)]
    token: Secret
    branch: Branch = "main"

    def __post_init__(self) -> None:
        _refuse(inputs.branch_problem(self.branch))


class GithubConnection(msgspec.Struct, kw_only=True, rename="camel"):
    github_connection_id: str
    owner: str
    repo: str
    branch: str
    commit_sha: str


class Connection(msgspec.Struct, kw_only=True, rename="camel"):
    connection_id: str
    kind: str
    details: dict[str, str]
    created_at: datetime


# ------------------------------------------------------------------ streams and health


class StreamTicket(msgspec.Struct, kw_only=True, rename="camel"):
    ticket: str
    expires_at: datetime


class Health(msgspec.Struct, kw_only=True, rename="camel"):
    status: str
    nats: bool
    database: bool
    projector_lag: dict[str, int]
    connections: dict[str, int]


class ErrorBody(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True):
    """The one error shape of every endpoint (``requestId`` only on a 500: quote it to the
    operator, whose log holds the traceback under that id)."""

    timestamp: datetime
    status: int
    error: str
    message: str
    error_code: ErrorCode
    path: str
    request_id: str | None = None


# ------------------------------------------------------------------ logs


class LogPage(msgspec.Struct, kw_only=True, rename="camel"):
    """A page of an app's log history, oldest line first (cursors: docs/api.md, Logs)."""

    items: list[LinePayload]
    gaps: list[GapPayload]
    limit: int
    has_more: bool
    prev: str | None
    next: str | None


# ------------------------------------------------------------------ ops (ADR 0022)


class ScaleCreate(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """``POST /api/v1/apps/{app}/scale``: the live colour's replica count."""

    replicas: Annotated[int, Meta(ge=0, le=50, description="0 to 50")]


class OpsActionView(msgspec.Struct, kw_only=True, rename="camel"):
    """An ops action: what was asked, by whom, and (once known) how it went.

    ``status`` is ``PENDING`` until the orchestrator records the outcome, then
    ``SUCCEEDED`` or ``FAILED`` (``errorCode`` and ``message`` say why, with the
    Kubernetes reason where the cluster refused). A rollback's and a cancel's
    ``deploymentId`` is the deployment to follow (``eventsUrl``).
    """

    action_id: str
    action: str
    app: str
    namespace: str
    target: str
    status: str
    replicas: int | None = None
    error_code: str | None = None
    message: str | None = None
    detail: dict[str, str | int | float | bool | None] = {}
    requested_by: str | None = None
    requested_at: datetime | None = None
    finished_at: datetime | None = None
    deployment_id: str | None = None
    action_url: str
    events_url: str | None = None
