"""Turning a deploy request into the ``DeploymentRequested`` event the pipeline runs.

Pure: the id, the tenant, the resolved commit and the AWS account come in as
arguments, so the same request always plans the same event.
"""

from __future__ import annotations

from flightdeck.events.deployments import DeploymentRequested
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.schemas import DeployCreate

ACTIVE_STATUSES = ("PENDING", "IN_PROGRESS")


def check_source(req: DeployCreate) -> None:
    """Exactly one source: an image tag, or a GitHub connection and branch."""
    from_image = req.image_tag is not None
    from_github = req.github_connection_id is not None
    if from_image == from_github:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "give either imageTag (with imageRepository) or githubConnectionId (with branch)",
        )
    if from_image and req.image_repository is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "imageTag needs imageRepository")


def image_uri(repository: str, tag: str, account_id: str | None, region: str | None) -> str:
    """The full ECR image name when the AWS account is known, else ``repo:tag``."""
    has_registry = "/" in repository and "." in repository.split("/", 1)[0]
    if account_id and region and not has_registry:
        return f"{account_id}.dkr.ecr.{region}.amazonaws.com/{repository}:{tag}"
    return f"{repository}:{tag}"


def plan(
    req: DeployCreate,
    *,
    deployment_id: str,
    tenant: str,
    commit_sha: str | None = None,
    github_branch: str | None = None,
    aws_account: tuple[str, str] | None = None,
) -> DeploymentRequested:
    """The event that starts the pipeline for ``req``."""
    check_source(req)
    repository = req.image_repository or req.app_name
    tag = req.image_tag or commit_sha
    if tag is None:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "the branch did not resolve to a commit")
    account, region = aws_account if aws_account else (None, None)
    return DeploymentRequested(
        deployment_id=deployment_id,
        tenant=tenant,
        app=req.app_name,
        namespace=req.namespace,
        repository=repository,
        tag=tag,
        image=image_uri(repository, tag, account, region),
        replicas=req.replicas,
        container_port=req.port,
        health_path=req.health_path,
        env=dict(req.env),
        aws_connection_id=req.aws_connection_id,
        github_connection_id=req.github_connection_id,
        branch=req.branch or github_branch if req.github_connection_id else None,
        commit_sha=commit_sha,
    )
