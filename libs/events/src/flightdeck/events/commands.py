"""Commands: requests to one service, on ``fd.cmd.<service>.<name>``.

A command has exactly one handler. It is validated there and becomes events,
or a clear error; a rejected command writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from flightdeck.events.audit import OpsAction
from flightdeck.events.base import Command
from flightdeck.events.deployments import Colour


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
    """Restart a pod, restart a rollout or scale, for ``target`` in ``namespace``."""

    action_id: str
    tenant: str
    action: OpsAction
    namespace: str
    target: str
    replicas: int | None = None


CommandMessage = (
    CancelDeployment | WatchImage | VerifyColour | FollowLogs | UnfollowLogs | RunOpsAction
)
