"""Turning a deploy request into the ``StartDeployment`` command the orchestrator runs.

Pure: the id, the tenant, the resolved commit and the AWS account come in as
arguments, so the same request always plans the same command. A retried
request (same ``Idempotency-Key``) is recognised by two values derived here:
the deployment id, from the tenant and the key, and the request's digest
(ADR 0020).
"""

from __future__ import annotations

import hashlib
import re

import msgspec

from flightdeck.events.commands import StartDeployment
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.inputs import whole
from flightdeck.gateway.schemas import DeployCreate

ACTIVE_STATUSES = ("PENDING", "IN_PROGRESS")

IDEMPOTENCY_KEY = whole(r"[\x20-\x7e]{1,128}")
"""1 to 128 printable ASCII characters (space included, as a structured-field string)."""


def check_source(req: DeployCreate) -> None:
    """Exactly one source: an image tag, or a GitHub connection and branch; and a name."""
    from_image = req.image_tag is not None
    from_github = req.github_connection_id is not None
    if from_image == from_github:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "give either imageTag (imageRepository defaults to appName) or githubConnectionId "
            "(with branch)",
        )
    if (req.owner is None) != (req.repo is None):
        raise ApiError(ErrorCode.VALIDATION_ERROR, "owner and repo: give both or neither")
    if req.repo is not None and not from_github:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "owner and repo need githubConnectionId")
    if req.app_name is None and req.repo is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "appName: required (or repo, named after it)")


_NOT_IN_A_LABEL = re.compile(r"[^a-z0-9-]+")


def app_name_for(repo: str) -> str:
    """The app a Panda body names by its ``repo``: lowercase, each run of characters a DNS
    label cannot hold (``.``, ``_``) turned into ``-``, at most 53 characters."""
    name = _NOT_IN_A_LABEL.sub("-", repo.lower()).strip("-")[:53].rstrip("-")
    if not name:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR, "repo: no app name can be made of it; give appName"
        )
    return name


def named(req: DeployCreate) -> DeployCreate:
    """``req`` with its ``appName`` filled in (from ``repo``), so that every later step, and
    the request's digest, sees one spelling of the same request."""
    check_source(req)
    if req.app_name is not None:
        return req
    assert req.repo is not None
    return msgspec.structs.replace(req, app_name=app_name_for(req.repo))


def check_idempotency_key(key: str) -> None:
    if not re.search(IDEMPOTENCY_KEY, key):
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "Idempotency-Key: 1 to 128 printable ASCII characters",
        )


def deployment_id_for(tenant: str, idempotency_key: str) -> str:
    """The deployment a tenant's ``Idempotency-Key`` names, the same in every gateway and
    after any restart: 32 hex digits of SHA-256 over both (so keys are per tenant)."""
    digest = hashlib.sha256(msgspec.json.encode(["deploy", tenant, idempotency_key]))
    return digest.hexdigest()[:32]


def request_digest(req: DeployCreate) -> str:
    """SHA-256 of the request as decoded (defaults filled, keys sorted): two bodies that
    ask for the same deployment have the same digest, whatever their spelling."""
    fields = msgspec.to_builtins(req)
    for added in _ADDED_SINCE_DIGESTS_BEGAN:
        if fields.get(added) is None:
            fields.pop(added, None)  # unchanged digests for requests stored before they came
    return hashlib.sha256(msgspec.json.encode(fields, order="sorted")).hexdigest()


_ADDED_SINCE_DIGESTS_BEGAN = ("owner", "repo")


def command_id_for(deployment_id: str, digest: str) -> str:
    """The command's message id: a repeated identical request is stored once (JetStream's
    duplicate window), while another body under the same key is a message of its own."""
    return hashlib.sha256(f"{deployment_id}:{digest}".encode()).hexdigest()[:32]


def ecr_registry(account_id: str, region: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


def plan(
    req: DeployCreate,
    *,
    deployment_id: str,
    tenant: str,
    commit_sha: str | None = None,
    github_branch: str | None = None,
    github_repository: tuple[str, str] | None = None,
    aws_account: tuple[str, str] | None = None,
    digest: str | None = None,
) -> StartDeployment:
    """The command that starts the pipeline for ``req`` (a :func:`named` request)."""
    check_source(req)
    assert req.app_name is not None, "plan a named request"
    repository = req.image_repository or req.app_name
    tag = req.image_tag or commit_sha
    if tag is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "the branch did not resolve to a commit")
    registry = ecr_registry(*aws_account) if aws_account and all(aws_account) else None
    return StartDeployment(
        deployment_id=deployment_id,
        tenant=tenant,
        app=req.app_name,
        namespace=req.namespace,
        repository=repository,
        tag=tag,
        registry=registry,
        replicas=req.replicas,
        container_port=req.port,
        health_path=req.health_path,
        env=dict(req.env),
        aws_connection_id=req.aws_connection_id,
        github_connection_id=req.github_connection_id,
        branch=req.branch or github_branch if req.github_connection_id else None,
        commit_sha=commit_sha,
        request_digest=digest,
        github_owner=github_repository[0] if github_repository else None,
        github_repo=github_repository[1] if github_repository else None,
    )
