"""Deployments: start one, read its result, list them (reads from the read model)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from flightdeck.gateway.domain import panda
from flightdeck.gateway.domain.auth import Principal, Scope
from flightdeck.gateway.domain.deploy import IDEMPOTENCY_KEY
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.entrypoints.auth import needs
from flightdeck.gateway.entrypoints.openapi import BODY, IN_PATH, READ, SECURED, errors
from flightdeck.gateway.schemas import (
    ID,
    ColourFigures,
    DeployAccepted,
    DeployCreate,
    DeploymentResult,
    DeploymentSummary,
    Envelope,
    Page,
    ResultError,
    StageResult,
)
from flightdeck.gateway.service_layer import handlers
from flightdeck.gateway.service_layer.handlers import Deploying
from flightdeck.gateway.service_layer.results import (
    Results,
    deployment_list,
    deployment_result,
)

Row = dict[str, Any]
DeploymentId = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=ID)]


def _figures(row: Row, prefix: str) -> ColourFigures | None:
    p50, p99 = row[f"{prefix}_latency_p50_ms"], row[f"{prefix}_latency_p99_ms"]
    rate = row[f"{prefix}_error_rate"]
    if p50 is None and p99 is None and rate is None:
        return None
    return ColourFigures(latency_p50_ms=p50, latency_p99_ms=p99, error_rate=rate)


def _colour_figure(row: Row, colour: str, figure: str) -> float | None:
    """One colour's figure (``latency_p50_ms``, ``error_rate``) from Verify: the new colour's
    if it is ``colour``, else the old one's if that was ``colour``."""
    if row["colour"] == colour:
        value = row[f"new_{figure}"]
    elif row["previous_colour"] == colour:
        value = row[f"old_{figure}"]
    else:
        return None
    return float(value) if value is not None else None


def _error(row: Row) -> ResultError | None:
    code = row["error_code"]
    if code is None:
        return None
    status = panda.error_status(code)
    return ResultError(
        status=status,
        error=panda.REASON_PHRASE[status],
        error_code=code,
        reason=row["error_reason"],
        message=row["error_message"],
        stage=row["error_stage"],
        stage_number=panda.stage_number(row["error_stage"]),
        duration_seconds=panda.seconds(row["total_duration_ms"]),
        timeout_seconds=row["timeout_s"],
    )


def result_of(row: Row, stages: list[Row]) -> DeploymentResult:
    """The result, ours and Panda's, from the ``deployments`` and ``deployment_stages`` rows."""
    finished = row["finished_at"] is not None
    return DeploymentResult(
        deployment_id=row["id"],
        app_name=row["app"],
        namespace=row["namespace"],
        image=row["image"],
        branch=row["branch"],
        commit_sha=row["commit_sha"],
        status=panda.status(row["status"]),
        phase=row["status"],
        stage=row["current_stage"],
        colour=row["colour"],
        previous_colour=row["previous_colour"],
        serving_colour=row["serving_colour"],
        url=row["url"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        error_stage=row["error_stage"],
        rolled_back=bool(row["rolled_back"]),
        total_duration_ms=row["total_duration_ms"],
        stage_durations_ms={
            s["stage"]: int(s["duration_ms"]) for s in stages if s["duration_ms"] is not None
        },
        stages=[
            StageResult(
                stage=s["stage"],
                status=s["status"],
                started_at=s["started_at"],
                finished_at=s["finished_at"],
                duration_ms=s["duration_ms"],
                message=s["message"],
                error_code=s["error_code"],
            )
            for s in stages
        ],
        new_colour=_figures(row, "new"),
        old_colour=_figures(row, "old"),
        event_count=row["event_count"],
        last_position=row["last_position"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        finished_at=row["finished_at"],
        error_reason=row["error_reason"],
        timeout_seconds=row["timeout_s"],
        error=_error(row),
        owner=row["github_owner"],
        repo=row["github_repo"],
        started_at=row["created_at"],
        completed_at=row["finished_at"],
        duration_seconds=panda.seconds(row["total_duration_ms"]) if finished else None,
        final_service=row["serving_colour"] if finished else None,
        blue_url=row["blue_url"],
        green_url=row["green_url"],
        blue_latency_ms=_colour_figure(row, "blue", "latency_p50_ms"),
        green_latency_ms=_colour_figure(row, "green", "latency_p50_ms"),
        blue_error_rate=_colour_figure(row, "blue", "error_rate"),
        green_error_rate=_colour_figure(row, "green", "error_rate"),
    )


def summary_of(row: Row) -> DeploymentSummary:
    return DeploymentSummary(
        deployment_id=row["id"],
        app_name=row["app"],
        namespace=row["namespace"],
        image=row["image"],
        status=panda.status(row["status"]),
        phase=row["status"],
        stage=row["current_stage"],
        url=row["url"],
        error_code=row["error_code"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


class DeployController(Controller):
    """``/api/v1/deploy``: start a deployment and read its result."""

    path = "/api/v1/deploy"
    tags = ["deployments"]
    security = SECURED

    @post(
        "/",
        operation_id="createDeployment",
        status_code=202,
        guards=[needs(Scope.DEPLOY)],
        summary="Start a deployment",
        responses=errors(
            *READ,
            *BODY,
            ErrorCode.CONNECTION_NOT_FOUND,
            ErrorCode.GITHUB_CREDENTIALS_INVALID,
            ErrorCode.GITHUB_REPOSITORY_NOT_FOUND,
            ErrorCode.GITHUB_BRANCH_NOT_FOUND,
            ErrorCode.NAMESPACE_NOT_FOUND,
            ErrorCode.NAMESPACE_NOT_WATCHED,
            ErrorCode.CONFLICT,
            ErrorCode.QUEUE_FULL,
            ErrorCode.UPSTREAM_UNAVAILABLE,
            ErrorCode.AT_CAPACITY,
        ),
    )
    async def create(
        self,
        data: JSONBody[DeployCreate],
        deploying: NamedDependency[Deploying],
        principal: NamedDependency[Principal],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                required=False,
                min_length=1,
                max_length=128,
                pattern=IDEMPOTENCY_KEY,
                description="Retries with the same key (and body) answer the same deployment; "
                "the same key with another body: 409 CONFLICT",
            ),
        ] = None,
    ) -> Envelope[DeployAccepted]:
        accepted = await handlers.request_deploy(deploying, principal, data, idempotency_key)
        return Envelope(code=202, message="Accepted", data=accepted)

    @get(
        "/{deployment_id:str}/result",
        operation_id="getDeploymentResult",
        summary="A deployment's result (unknown ids answer 400 DEPLOYMENT_NOT_FOUND)",
        responses=errors(*READ, *IN_PATH, ErrorCode.DEPLOYMENT_NOT_FOUND),
    )
    async def result(
        self,
        deployment_id: DeploymentId,
        results: NamedDependency[Results],
        principal: NamedDependency[Principal],
    ) -> Envelope[DeploymentResult]:
        found = await deployment_result(results, principal.tenant, deployment_id)
        if found is None:
            raise ApiError(ErrorCode.DEPLOYMENT_NOT_FOUND, f"no deployment {deployment_id}")
        return Envelope(code=200, message="OK", data=result_of(*found))


class DeploymentListController(Controller):
    """``/api/v1/deployments``: this tenant's deployments, newest first."""

    path = "/api/v1/deployments"
    tags = ["deployments"]
    security = SECURED

    @get(
        "/",
        operation_id="listDeployments",
        summary="List deployments with filters",
        responses=errors(*READ),
    )
    async def list_deployments(
        self,
        results: NamedDependency[Results],
        principal: NamedDependency[Principal],
        app: Annotated[str | None, QueryParameter(name="app", max_length=128)] = None,
        status: Annotated[
            str | None,
            QueryParameter(
                name="status",
                max_length=16,
                description="Panda's (PENDING, RUNNING, COMPLETED, FAILED: cancelled too) "
                "or ours (IN_PROGRESS, SUCCEEDED, CANCELLED)",
            ),
        ] = None,
        namespace: Annotated[str | None, QueryParameter(name="namespace", max_length=128)] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(name="offset", ge=0, le=1_000_000)] = 0,
    ) -> Envelope[Page[DeploymentSummary]]:
        rows, total = await deployment_list(
            results,
            principal.tenant,
            app=app,
            status=status,
            namespace=namespace,
            limit=limit,
            offset=offset,
        )
        page = Page(items=[summary_of(r) for r in rows], total=total, limit=limit, offset=offset)
        return Envelope(code=200, message="OK", data=page)
