"""Who did what outside a deployment: ops actions, connections, API tokens.

Subjects: ``fd.evt.ops.<tenant>.<app>``; ``fd.evt.access.<tenant>`` for API
tokens (only admin credentials write there); ``fd.evt.conn.<tenant>`` for
connections (older connections were recorded on the access subject and stay
readable there). Secrets never appear in clear: connections carry ciphertext
only, tokens a hash.
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from flightdeck.events.base import Event


class OpsAction(enum.StrEnum):
    RESTART_POD = "restart_pod"
    RESTART_ROLLOUT = "restart_rollout"
    SCALE = "scale"
    CANCEL = "cancel"
    ROLLBACK = "rollback"


class OpsActionRequested(Event, frozen=True, kw_only=True, tag="ops.action_requested"):
    """Someone asked for an ops action on ``app`` (ADR 0022); its outcome follows as
    :class:`OpsActionSucceeded` or :class:`OpsActionFailed` with the same ``action_id``.

    Recorded by the orchestrator, the one handler of ``RunOpsAction``, with the
    command's actor (the API key's name) and correlation: who did it is in the
    envelope, ``token_id`` names the key unambiguously.
    """

    action_id: str
    tenant: str
    app: str
    action: OpsAction
    namespace: str
    target: str
    """The pod (``restart_pod``), the deployment id (``cancel``), else empty."""
    replicas: int | None = None
    token_id: str | None = None
    request_digest: str | None = None


class OpsActionSucceeded(Event, frozen=True, kw_only=True, tag="ops.action_succeeded"):
    action_id: str
    action: OpsAction
    namespace: str
    target: str
    detail: dict[str, str | int | None] = {}


class OpsActionFailed(Event, frozen=True, kw_only=True, tag="ops.action_failed"):
    action_id: str
    action: OpsAction
    namespace: str
    target: str
    error_code: str
    message: str


class SealedSecret(msgspec.Struct, frozen=True, kw_only=True):
    """A secret encrypted at rest; ``key_id`` names the key that can open it."""

    key_id: str
    ciphertext: str


class AwsConnectionCreated(Event, frozen=True, kw_only=True, tag="access.aws_connection_created"):
    connection_id: str
    tenant: str
    account_id: str
    arn: str
    region: str
    access_key_hint: str
    secret: SealedSecret


class GithubConnectionCreated(
    Event, frozen=True, kw_only=True, tag="access.github_connection_created"
):
    connection_id: str
    tenant: str
    owner: str
    repo: str
    branch: str
    token: SealedSecret


class ConnectionResealed(Event, frozen=True, kw_only=True, tag="conn.resealed"):
    """A connection's secret sealed again under the current key (``flightdeck secrets
    rotate``); readers use the latest sealed value, so the old key can go."""

    connection_id: str
    tenant: str
    secret: SealedSecret


class ApiTokenCreated(Event, frozen=True, kw_only=True, tag="access.token_created"):
    token_id: str
    tenant: str
    name: str
    scopes: list[str]
    token_hash: str
    expires_at: datetime | None = None


class ApiTokenRevoked(Event, frozen=True, kw_only=True, tag="access.token_revoked"):
    token_id: str
    tenant: str


AuditEvent = (
    OpsActionRequested
    | OpsActionSucceeded
    | OpsActionFailed
    | AwsConnectionCreated
    | GithubConnectionCreated
    | ConnectionResealed
    | ApiTokenCreated
    | ApiTokenRevoked
)
