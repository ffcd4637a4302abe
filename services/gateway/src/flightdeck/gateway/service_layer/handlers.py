"""One short function per request: check, call the domain, append the event or send the command.

Controllers decode the request and call these; these never see HTTP. Each
takes the narrow group of dependencies it uses (:class:`Deploying`,
:class:`Connecting`, :class:`Ticketing`), built by
:mod:`flightdeck.gateway.bootstrap` and handed to the controllers by Litestar.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

from flightdeck.events import Cause, Recorded, new_id, subjects
from flightdeck.events.audit import AwsConnectionCreated, GithubConnectionCreated
from flightdeck.events.commands import deployment_requested
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.events.subjects import START_DEPLOYMENT
from flightdeck.gateway.domain import deploy as planning
from flightdeck.gateway.domain import ownership
from flightdeck.gateway.domain.auth import Principal, sign_ticket
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.schemas import (
    AwsConnection,
    AwsConnectionCreate,
    DeployAccepted,
    DeployCreate,
    GithubConnection,
    GithubConnectionCreate,
    StreamTicket,
)
from flightdeck.gateway.service_layer.admission import DeployAdmission
from flightdeck.gateway.service_layer.ports import (
    Append,
    Branches,
    ConnectionRows,
    ConnectionsOf,
    DeploymentRequests,
    Identities,
    Owners,
    Sealing,
)
from flightdeck.runtime.sealing import connection_binding
from flightdeck.runtime.tenancy import deploy_refusal

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Targets:
    """Where deployments may go besides a tenant's own namespaces (ADR 0012)."""

    protected: frozenset[str]
    """Namespaces nobody may deploy to."""
    watched: frozenset[str]
    """Namespaces the k8s-watcher watches: a deployment elsewhere could never finish."""


@dataclass(frozen=True)
class Deploying:
    """What starting a deployment needs."""

    send: Append
    """Appends the ``StartDeployment`` command."""
    requests: DeploymentRequests
    owners: Owners
    targets: Targets
    connections: ConnectionRows
    connections_of: ConnectionsOf
    sealer: Sealing
    github: Branches
    admission: DeployAdmission
    wait_s: float = 10.0
    """How long a deploy waits for the orchestrator to record the request (ADR 0020)."""


@dataclass(frozen=True)
class Connecting:
    """What connecting an AWS account or a GitHub repository needs."""

    append: Append
    sealer: Sealing
    sts: Identities
    github: Branches


@dataclass(frozen=True)
class Ticketing:
    """What issuing stream tickets needs."""

    key: bytes
    ttl_s: float
    clock: Callable[[], float] = time.time


def _cause(principal: Principal) -> Cause:
    return Cause.root(principal.actor)


async def request_deploy(
    deps: Deploying, who: Principal, req: DeployCreate, idempotency_key: str | None = None
) -> DeployAccepted:
    """Validate, check ownership, resolve the source, then claim the app (the first time)
    and send ``StartDeployment``; answer once the orchestrator has recorded the request.

    With an ``idempotency_key`` the deployment id is derived from it (per tenant), so a
    retry answers the deployment the first request started, from any gateway, even one
    restarted since; the same key with another body is a ``CONFLICT`` (ADR 0020).
    """
    req = planning.named(req)
    assert req.app_name is not None
    claimed = await _check_target(deps, who, req.namespace, req.app_name)
    digest = planning.request_digest(req)
    if idempotency_key is None:
        deployment_id, command_id = new_id(), None
    else:
        planning.check_idempotency_key(idempotency_key)
        deployment_id = planning.deployment_id_for(who.tenant, idempotency_key)
        command_id = planning.command_id_for(deployment_id, digest)
        earlier = await deps.requests.read_first(subjects.deployment(deployment_id))
        if earlier is not None:
            return _accepted(deployment_id, _same_request(earlier, digest))
    aws_account = None
    if req.aws_connection_id is not None:
        row = await deps.connections.connection(who.tenant, req.aws_connection_id, "aws")
        if row is None:
            raise ApiError(ErrorCode.CONNECTION_NOT_FOUND, "unknown awsConnectionId")
        details = row["details"]
        aws_account = (str(details.get("accountId", "")), str(details.get("region", "")))
    sha, branch, repository = None, None, None
    if req.github_connection_id is not None:
        sha, branch, repository = await _resolve_branch(deps, who, req)
    async with deps.admission.admit(who.tenant) as accepted:
        if not claimed:
            await _claim(deps, who, req.namespace, req.app_name, deployment_id)
        command = planning.plan(
            req,
            deployment_id=deployment_id,
            tenant=who.tenant,
            commit_sha=sha,
            github_branch=branch,
            github_repository=repository,
            aws_account=aws_account,
            digest=digest,
        )
        ids = [command_id] if command_id else None
        await deps.send(START_DEPLOYMENT, [command], cause=_cause(who), ids=ids)
        accepted(deployment_id)
    recorded = await deps.requests.wait_first(subjects.deployment(deployment_id), deps.wait_s)
    if recorded is None:
        # The command is stored (FD_COMMANDS keeps it a day) and runs when an orchestrator
        # takes it; until then the id is unknown to reads (ADR 0020).
        log.warning("deploy accepted before its request was recorded", deployment=deployment_id)
        return _accepted(deployment_id, deployment_requested(command))
    return _accepted(deployment_id, _same_request(recorded, digest))


def _same_request(recorded: Recorded[Any], digest: str) -> DeploymentRequested:
    """The deployment's request, if it is the one with this digest; else ``CONFLICT``."""
    event = recorded.event
    if not isinstance(event, DeploymentRequested) or event.request_digest != digest:
        raise ApiError(
            ErrorCode.CONFLICT, "this Idempotency-Key was used for a different deploy request"
        )
    return event


def _accepted(deployment_id: str, request: DeploymentRequested) -> DeployAccepted:
    base = f"/api/v1/deploy/{deployment_id}"
    return DeployAccepted(
        deployment_id=deployment_id,
        status="PENDING",
        image=request.image,
        events_url=f"{base}/events",
        result_url=f"{base}/result",
    )


async def _check_target(deps: Deploying, who: Principal, namespace: str, app: str) -> bool:
    """Refuse a namespace or app that is not ``who``'s (ADR 0012); ``True`` if the app is
    already claimed by ``who``.

    A foreign, reserved or unknown namespace costs the same one lookup and gets the
    same answer; the app's claim is read only in the caller's own namespace.
    """
    owner = await deps.owners.namespace_owner(namespace)
    app_owner = None
    if owner == who.tenant:
        app_owner = await deps.owners.app_owner(namespace, app)
    refusal = deploy_refusal(
        who.tenant,
        namespace,
        namespace_owner=owner,
        app_owner=app_owner,
        protected=deps.targets.protected,
        watched=deps.targets.watched,
    )
    if refusal is not None:
        raise ownership.refused(refusal, namespace)
    return app_owner is not None


async def _claim(
    deps: Deploying, who: Principal, namespace: str, app: str, deployment_id: str
) -> None:
    """``AppClaimed`` with ``expected=0``: of two first deployments at once, one claims."""
    winner = await deps.owners.claim_app(who.tenant, namespace, app, deployment_id, _cause(who))
    if winner != who.tenant:  # cannot happen while the namespace is ours; refuse all the same
        raise ownership.namespace_not_found(namespace)


async def _resolve_branch(
    deps: Deploying, who: Principal, req: DeployCreate
) -> tuple[str, str, tuple[str, str]]:
    """The branch's head commit, the branch, and the repository (Panda's ``owner``/``repo``
    if given, read with the connection's token; else the connection's own)."""
    connection_id = req.github_connection_id
    assert connection_id is not None
    row = await deps.connections.connection(who.tenant, connection_id, "github")
    if row is None:
        raise ApiError(ErrorCode.CONNECTION_NOT_FOUND, "unknown githubConnectionId")
    created = await _github_connection_event(deps, who.tenant, connection_id)
    token = deps.sealer.open(created.token, _binding(who.tenant, connection_id))
    use_branch = req.branch or created.branch
    owner, repo = (req.owner, req.repo) if req.owner and req.repo else (created.owner, created.repo)
    sha = await deps.github.branch_sha(owner, repo, use_branch, token)
    return sha, use_branch, (owner, repo)


async def _github_connection_event(
    deps: Deploying, tenant: str, connection_id: str
) -> GithubConnectionCreated:
    # The read model keeps no secrets, so the sealed token (its latest sealing, after
    # any key rotation) is read from the audit stream.
    found = (await deps.connections_of(tenant)).get(connection_id)
    if isinstance(found, GithubConnectionCreated):
        return found
    raise ApiError(ErrorCode.CONNECTION_NOT_FOUND, "unknown githubConnectionId")


_binding = connection_binding


def _hint(access_key_id: str) -> str:
    return access_key_id[:4] + "…" + access_key_id[-4:]


async def connect_aws(deps: Connecting, who: Principal, req: AwsConnectionCreate) -> AwsConnection:
    """Check the keys with STS, then record them sealed; the secret never leaves sealed."""
    identity = await deps.sts.identify(
        req.access_key_id, req.secret_access_key, req.region, req.session_token
    )
    connection_id = new_id()
    secret = _json(
        {
            "accessKeyId": req.access_key_id,
            "secretAccessKey": req.secret_access_key,
            "sessionToken": req.session_token,
        }
    )
    event = AwsConnectionCreated(
        connection_id=connection_id,
        tenant=who.tenant,
        account_id=identity.account_id,
        arn=identity.arn,
        region=req.region,
        access_key_hint=_hint(req.access_key_id),
        secret=deps.sealer.seal(secret, _binding(who.tenant, connection_id)),
    )
    await deps.append(subjects.connections(who.tenant), [event], cause=_cause(who))
    return AwsConnection(
        aws_connection_id=connection_id,
        account_id=identity.account_id,
        arn=identity.arn,
        region=req.region,
        access_key_hint=event.access_key_hint,
    )


async def connect_github(
    deps: Connecting, who: Principal, req: GithubConnectionCreate
) -> GithubConnection:
    """Check repository, branch and token with GitHub, then record the token sealed."""
    sha = await deps.github.branch_sha(req.owner, req.repo, req.branch, req.token)
    connection_id = new_id()
    event = GithubConnectionCreated(
        connection_id=connection_id,
        tenant=who.tenant,
        owner=req.owner,
        repo=req.repo,
        branch=req.branch,
        token=deps.sealer.seal(req.token, _binding(who.tenant, connection_id)),
    )
    await deps.append(subjects.connections(who.tenant), [event], cause=_cause(who))
    return GithubConnection(
        github_connection_id=connection_id,
        owner=req.owner,
        repo=req.repo,
        branch=req.branch,
        commit_sha=sha,
    )


def issue_ticket(deps: Ticketing, who: Principal) -> StreamTicket:
    """A read-only stream ticket for ``who``'s tenant, valid for ``ttl_s``."""
    expires = int(deps.clock() + deps.ttl_s)
    return StreamTicket(
        ticket=sign_ticket(deps.key, who, expires),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()
