"""Commands: requests to one service, on ``fd.cmd.<service>.<name>``.

A command has exactly one handler. It is validated there and becomes events,
or a clear error; a rejected command writes nothing. What a command's fields
must hold is written on its type (``Meta`` constraints): a message that breaks
them does not decode, and the consumer dead-letters it at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta

from flightdeck.events.audit import OpsAction
from flightdeck.events.base import Command
from flightdeck.events.deployments import Colour, DeploymentRequested

_DNS_LABEL = r"^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)(?!\n)$"
DeploymentId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9_-]{1,64}(?!\n)$")]
"""A subject token and a Kubernetes label value as it stands: no escaping needed."""
AppName = Annotated[str, Meta(pattern=_DNS_LABEL, max_length=53)]
"""A DNS label short enough for ``<app>-<colour>`` and its pods' generated names."""
NamespaceName = Annotated[str, Meta(pattern=_DNS_LABEL, max_length=63)]
NonEmpty = Annotated[str, Meta(min_length=1)]
Seconds = Annotated[float, Meta(gt=0)]


class StartDeployment(Command, frozen=True, kw_only=True, tag="cmd.start_deployment"):
    """Ask the orchestrator to deploy ``repository:tag`` as ``app`` in ``namespace``.

    Sent on ``fd.cmd.orchestrator.start`` (:data:`~flightdeck.events.subjects.START_DEPLOYMENT`)
    by ``POST /api/v1/deploy`` (and by the demo and benchmark starters). Its one
    handler, the orchestrator's, records :func:`deployment_requested` of it on
    ``fd.evt.deploy.<deployment_id>`` with ``expected=0`` and runs the pipeline: the
    same command handled twice (a redelivery, a retried request) records it once, and
    another command naming a deployment id already taken records nothing (ADR 0020).
    The sender checked tenancy (ADR 0012); the orchestrator checks it again.
    """

    deployment_id: DeploymentId
    tenant: NonEmpty
    app: AppName
    namespace: NamespaceName
    repository: NonEmpty
    tag: NonEmpty
    registry: str | None = None
    """Prepended to ``repository`` unless it names a registry itself (see :func:`image_reference`)."""
    replicas: Annotated[int, Meta(ge=1)] = 2
    container_port: Annotated[int, Meta(ge=1, le=65535)] = 8080
    health_path: Annotated[str, Meta(pattern=r"^/")] = "/health"
    env: dict[str, str] = {}
    verify_checks: Annotated[int, Meta(ge=1)] = 5
    stage_timeout_s: Seconds = 600.0
    overall_timeout_s: Seconds = 1800.0
    aws_connection_id: str | None = None
    github_connection_id: str | None = None
    branch: str | None = None
    commit_sha: str | None = None
    request_digest: str | None = None
    """SHA-256 of the API request (canonical JSON) behind an ``Idempotency-Key``."""
    github_owner: str | None = None
    """The GitHub repository a deploy from a branch builds on."""
    github_repo: str | None = None


def image_reference(repository: str, tag: str, registry: str | None = None) -> str:
    """``registry/repository:tag``; just ``repository:tag`` without a registry, or when the
    repository already starts with one (as ``docker pull`` reads it: a first component
    holding a dot or a port, like ``ghcr.io`` or ``localhost:5000``, or ``localhost``)."""
    first = repository.split("/", 1)[0]
    names_registry = "/" in repository and ("." in first or ":" in first or first == "localhost")
    if registry and not names_registry:
        return f"{registry}/{repository}:{tag}"
    return f"{repository}:{tag}"


def deployment_requested(command: StartDeployment) -> DeploymentRequested:
    """The event that records ``command``: the one place a ``DeploymentRequested`` is built.

    Pure, so a handled command and a retried one give equal events, which is how a
    retry is told from another command that names the same deployment id.
    """
    return DeploymentRequested(
        deployment_id=command.deployment_id,
        tenant=command.tenant,
        app=command.app,
        namespace=command.namespace,
        repository=command.repository,
        tag=command.tag,
        image=image_reference(command.repository, command.tag, command.registry),
        replicas=command.replicas,
        container_port=command.container_port,
        health_path=command.health_path,
        env=dict(command.env),
        verify_checks=command.verify_checks,
        stage_timeout_s=command.stage_timeout_s,
        overall_timeout_s=command.overall_timeout_s,
        aws_connection_id=command.aws_connection_id,
        github_connection_id=command.github_connection_id,
        branch=command.branch,
        commit_sha=command.commit_sha,
        request_digest=command.request_digest,
        github_owner=command.github_owner,
        github_repo=command.github_repo,
    )


class CancelDeployment(Command, frozen=True, kw_only=True, tag="cmd.cancel_deployment"):
    deployment_id: str
    reason: str


class WatchImage(Command, frozen=True, kw_only=True, tag="cmd.watch_image"):
    """Ask the ecr-poller to report when ``repository:tag`` exists, until ``deadline``."""

    repository: str
    tag: str
    deadline: datetime
    deployment_id: str | None = None
    aws_connection_id: str | None = None


class VerifyColour(Command, frozen=True, kw_only=True, tag="cmd.verify_colour"):
    """Ask the prober for ``checks`` health checks of a new colour, and the old one's."""

    deployment_id: str
    colour: Colour
    url: str
    checks: int = 5
    timeout_s: float = 5.0
    interval_s: float = 0.5
    expected_status: int = 200
    body_contains: str | None = None
    host_header: str | None = None
    old_colour: Colour | None = None
    old_url: str | None = None
    old_host_header: str | None = None
    max_failures: int = 0
    """Failed checks of the new colour still accepted as a pass."""


class FollowLogs(Command, frozen=True, kw_only=True, tag="cmd.follow_logs"):
    """Ask the log-relay to follow every container of the pods matching ``selector``."""

    namespace: str
    app: str
    selector: dict[str, str]
    tail_lines: int = 100


class UnfollowLogs(Command, frozen=True, kw_only=True, tag="cmd.unfollow_logs"):
    namespace: str
    app: str


class RunOpsAction(Command, frozen=True, kw_only=True, tag="cmd.ops_action"):
    """Restart a pod, restart or scale the live colour, cancel a deployment or roll the
    app back (ADR 0022).

    Sent on ``fd.cmd.orchestrator.ops`` (:data:`~flightdeck.events.subjects.RUN_OPS_ACTION`)
    by the gateway's ops routes. Its one handler, the orchestrator's, records
    :class:`~flightdeck.events.audit.OpsActionRequested` once per ``action_id`` on
    ``fd.evt.ops.<tenant>.<app>``, acts on the cluster (or the pipeline), then records
    the outcome. ``target`` is the pod for ``restart_pod``, the deployment id for
    ``cancel``, and empty otherwise (the orchestrator finds the live colour itself).
    """

    action_id: DeploymentId
    tenant: NonEmpty
    app: AppName
    action: OpsAction
    namespace: NamespaceName
    target: Annotated[str, Meta(max_length=253)] = ""
    replicas: Annotated[int, Meta(ge=0, le=50)] | None = None
    token_id: str | None = None
    request_digest: str | None = None


def rollback_deployment_id(action_id: str) -> str:
    """The id of the deployment a rollback starts: derived from the action, so a
    redelivered command or a retried request starts it once (ADR 0022)."""
    return f"rb-{action_id}"[:64]


CommandMessage = (
    StartDeployment
    | CancelDeployment
    | WatchImage
    | VerifyColour
    | FollowLogs
    | UnfollowLogs
    | RunOpsAction
)
