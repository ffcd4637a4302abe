"""One short function per command: check, call the domain, append the event.

Controllers decode the request and call these; these never see HTTP.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import msgspec

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.audit import AwsConnectionCreated, GithubConnectionCreated
from flightdeck.events.connections import read_connections
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.domain import deploy as planning
from flightdeck.gateway.domain import limits, ownership
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
from flightdeck.runtime.sealing import connection_binding
from flightdeck.runtime.tenancy import deploy_refusal


def _cause(principal: Principal) -> Cause:
    return Cause.root(principal.actor)


async def request_deploy(deps: Deps, who: Principal, req: DeployCreate) -> DeployAccepted:
    """Validate, check ownership, resolve the source, then claim the app (the first time)
    and append ``DeploymentRequested``; the pipeline runs it."""
    planning.check_source(req)
    claimed = await _check_target(deps, who, req.namespace, req.app_name)
    aws_account = None
    if req.aws_connection_id is not None:
        row = await deps.read_model.connection(who.tenant, req.aws_connection_id, "aws")
        if row is None:
            raise ApiError(ErrorCode.CONNECTION_NOT_FOUND, "unknown awsConnectionId")
        details = row["details"]
        aws_account = (str(details.get("accountId", "")), str(details.get("region", "")))
    sha, branch = None, None
    if req.github_connection_id is not None:
        sha, branch = await _resolve_branch(deps, who, req.github_connection_id, req.branch)
    async with deps.admission:
        limits.admit_deployment(deps.deploy_limit(), *await deps.active_deployments(who.tenant))
        deployment_id = new_id()
        if not claimed:
            await _claim(deps, who, req.namespace, req.app_name, deployment_id)
        event = planning.plan(
            req,
            deployment_id=deployment_id,
            tenant=who.tenant,
            commit_sha=sha,
            github_branch=branch,
            aws_account=aws_account,
        )
        await deps.store.append(
            subjects.deployment(deployment_id), [event], cause=_cause(who), expected=0
        )
        deps.requested[deployment_id] = (time.monotonic(), who.tenant)
    base = f"/api/v1/deploy/{deployment_id}"
    return DeployAccepted(
        deployment_id=deployment_id,
        status="PENDING",
        image=event.image,
        events_url=f"{base}/events",
        result_url=f"{base}/result",
    )


async def _check_target(deps: Deps, who: Principal, namespace: str, app: str) -> bool:
    """Refuse a namespace or app that is not ``who``'s (ADR 0012); ``True`` if the app is
    already claimed by ``who``.

    A foreign, reserved or unknown namespace costs the same one lookup and gets the
    same answer; the app's claim is read only in the caller's own namespace.
    """
    owner = await deps.ownership.namespace_owner(namespace)
    app_owner = None
    if owner == who.tenant:
        app_owner = await deps.ownership.app_owner(namespace, app)
    refusal = deploy_refusal(
        who.tenant,
        namespace,
        namespace_owner=owner,
        app_owner=app_owner,
        protected=deps.protected,
        watched=deps.watched,
    )
    if refusal is not None:
        raise ownership.refused(refusal, namespace)
    return app_owner is not None


async def _claim(deps: Deps, who: Principal, namespace: str, app: str, deployment_id: str) -> None:
    """``AppClaimed`` with ``expected=0``: of two first deployments at once, one claims."""
    winner = await deps.ownership.claim_app(who.tenant, namespace, app, deployment_id, _cause(who))
    if winner != who.tenant:  # cannot happen while the namespace is ours; refuse all the same
        raise ownership.namespace_not_found(namespace)


async def _resolve_branch(
    deps: Deps, who: Principal, connection_id: str, branch: str | None
) -> tuple[str, str]:
    row = await deps.read_model.connection(who.tenant, connection_id, "github")
    if row is None:
        raise ApiError(ErrorCode.CONNECTION_NOT_FOUND, "unknown githubConnectionId")
    created = await _github_connection_event(deps, who.tenant, connection_id)
    token = deps.sealer.open(created.token, _binding(who.tenant, connection_id))
    use_branch = branch or created.branch
    sha = await deps.github.branch_sha(created.owner, created.repo, use_branch, token)
    return sha, use_branch


async def _github_connection_event(
    deps: Deps, tenant: str, connection_id: str
) -> GithubConnectionCreated:
    # The read model keeps no secrets, so the sealed token (its latest sealing, after
    # any key rotation) is read from the audit stream.
    found = (await read_connections(deps.store, tenant)).get(connection_id)
    if isinstance(found, GithubConnectionCreated):
        return found
    raise ApiError(ErrorCode.CONNECTION_NOT_FOUND, "unknown githubConnectionId")


_binding = connection_binding


def _hint(access_key_id: str) -> str:
    return access_key_id[:4] + "…" + access_key_id[-4:]


async def connect_aws(deps: Deps, who: Principal, req: AwsConnectionCreate) -> AwsConnection:
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
    await deps.store.append(subjects.connections(who.tenant), [event], cause=_cause(who))
    return AwsConnection(
        aws_connection_id=connection_id,
        account_id=identity.account_id,
        arn=identity.arn,
        region=req.region,
        access_key_hint=event.access_key_hint,
    )


async def connect_github(
    deps: Deps, who: Principal, req: GithubConnectionCreate
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
    await deps.store.append(subjects.connections(who.tenant), [event], cause=_cause(who))
    return GithubConnection(
        github_connection_id=connection_id,
        owner=req.owner,
        repo=req.repo,
        branch=req.branch,
        commit_sha=sha,
    )


def issue_ticket(deps: Deps, who: Principal) -> StreamTicket:
    """A read-only stream ticket for ``who``'s tenant, valid for ``ticket_ttl_s``."""
    expires = int(time.time() + deps.config.ticket_ttl_s)
    return StreamTicket(
        ticket=sign_ticket(deps.ticket_key, who, expires),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def check_deployment_visible(deps: Deps, who: Principal, deployment_id: str) -> None:
    """``DEPLOYMENT_NOT_FOUND`` unless the deployment exists in ``who``'s tenant.

    Read from the deployment's first event (one direct get), not the read
    model, so a client may open the stream right after ``POST /deploy``. Never
    cached: another tenant's deployment and an unknown id cost the same lookup.
    """
    first = await deps.store.read_first(subjects.deployment(deployment_id))
    tenant = first.event.tenant if first and isinstance(first.event, DeploymentRequested) else None
    if tenant != who.tenant:
        raise ApiError(ErrorCode.DEPLOYMENT_NOT_FOUND, f"no deployment {deployment_id}")
