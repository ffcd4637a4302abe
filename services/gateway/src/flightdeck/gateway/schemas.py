"""The API's request and response bodies (msgspec Structs, camelCase on the wire).

``XCreate`` is what a client sends, ``X`` what it gets back. REST success
bodies are wrapped in the Panda envelope ``{code, message, data}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

import msgspec
from msgspec import Meta

from flightdeck.gateway.domain.logrender import GapPayload, LinePayload

T = TypeVar("T")

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
GITHUB_NAME = r"^[A-Za-z0-9_.-]+$"

AppName = Annotated[str, Meta(pattern=DNS_LABEL, min_length=1, max_length=53)]
Namespace = Annotated[str, Meta(pattern=DNS_LABEL, min_length=1, max_length=63)]
Id = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Text = Annotated[str, Meta(min_length=1, max_length=256)]
# Secrets travel in HTTP headers upstream: printable ASCII without spaces only.
Secret = Annotated[str, Meta(min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")]


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Every REST success: ``code`` mirrors the HTTP status."""

    code: int
    message: str
    data: T


# ------------------------------------------------------------------ deployments


class DeployCreate(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """A deploy request: an image (repository + tag) or a GitHub branch whose SHA is the tag."""

    app_name: AppName
    image_repository: Annotated[str, Meta(min_length=1, max_length=256)] | None = None
    image_tag: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    github_connection_id: Id | None = None
    branch: Annotated[str, Meta(min_length=1, max_length=256)] | None = None
    aws_connection_id: Id | None = None
    replicas: Annotated[int, Meta(ge=1, le=50)] = 2
    port: Annotated[int, Meta(ge=1, le=65535)] = 8080
    health_path: Annotated[str, Meta(pattern=r"^/", max_length=512)] = "/health"
    env: dict[Annotated[str, Meta(pattern=ENV_NAME, max_length=128)], str] = {}
    namespace: Namespace = "default"


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


class DeploymentResult(msgspec.Struct, kw_only=True, rename="camel"):
    """The Panda result: where a deployment stands, or how it ended."""

    deployment_id: str
    app_name: str
    namespace: str
    image: str
    branch: str | None
    commit_sha: str | None
    status: str
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


class DeploymentSummary(msgspec.Struct, kw_only=True, rename="camel"):
    deployment_id: str
    app_name: str
    namespace: str
    image: str
    status: str
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
    access_key_id: Annotated[str, Meta(pattern=r"^[A-Z0-9]{16,128}$")]
    secret_access_key: Secret
    region: Annotated[str, Meta(pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$", max_length=32)] = "us-east-1"
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
    branch: Annotated[str, Meta(min_length=1, max_length=256)] = "main"


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


class ErrorBody(msgspec.Struct, kw_only=True, rename="camel"):
    """The one error shape of every endpoint."""

    timestamp: datetime
    status: int
    error: str
    message: str
    error_code: str
    path: str


# ------------------------------------------------------------------ logs


class LogPage(msgspec.Struct, kw_only=True, rename="camel"):
    """A page of an app's log history, oldest line first (cursors: docs/api.md, Logs)."""

    items: list[LinePayload]
    gaps: list[GapPayload]
    limit: int
    has_more: bool
    prev: str | None
    next: str | None
