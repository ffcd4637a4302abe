"""Panda wire compatibility, as a superset (issue 14 item 4, ADR 0024): Panda's literal deploy
body, Panda's fields in the result and the list, and a timeout as ``DEPLOYMENT_TIMEOUT``."""

from __future__ import annotations

from typing import Any

import pytest

from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    ColourStats,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    Stage,
    StageFailed,
    StageStarted,
    StageSucceeded,
)
from tests.integration.gateway.conftest import GITHUB_SHA, GITHUB_TOKEN, Gateway, new_deployment
from tests.integration.gateway.test_rest import assert_error
from tests.support.samples import T0
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

AWS = {
    "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
    "secretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET",
    "region": "eu-west-1",
}


async def connections(gw: Gateway) -> tuple[str, str, str]:
    """A GitHub and an AWS connection of tenant acme, as Panda's clients make them first."""
    github = {"owner": "acme", "repo": "web", "branch": "main", "token": GITHUB_TOKEN}
    async with gw.client("acme-admin") as client:
        gh = (await client.post("/api/v1/connect/github", json=github)).json()["data"]
        aws = (await client.post("/api/v1/connect/aws", json=AWS)).json()["data"]

        async def listed() -> bool:
            rows = (await client.get("/api/v1/connections")).json()["data"]
            ids = {r["connectionId"] for r in rows}
            return {gh["githubConnectionId"], aws["awsConnectionId"]} <= ids

        await eventually(listed)
    return gh["githubConnectionId"], aws["awsConnectionId"], aws["accountId"]


async def test_panda_s_literal_body_deploys_the_branch_head_of_the_repo(gateway: Gateway) -> None:
    github_id, aws_id, account = await connections(gateway)
    body = {
        "githubConnectionId": github_id,
        "awsConnectionId": aws_id,
        "owner": "acme",
        "repo": "web",
        "branch": "main",
    }
    async with gateway.client("acme-deploy") as client:
        accepted = await client.post("/api/v1/deploy", json=body)
        assert accepted.status_code == 202, accepted.text
        data = accepted.json()["data"]
        assert data["image"] == f"{account}.dkr.ecr.eu-west-1.amazonaws.com/web:{GITHUB_SHA}"
        result = (await client.get(data["resultUrl"])).json()["data"]
    assert (result["appName"], result["owner"], result["repo"], result["branch"]) == (
        "web",
        "acme",
        "web",
        "main",
    )
    assert (result["status"], result["phase"], result["commitSha"]) == (
        "PENDING",
        "PENDING",
        GITHUB_SHA,
    )
    assert result["startedAt"] == result["createdAt"] and result["completedAt"] is None


async def test_panda_bodies_that_cannot_deploy_are_refused_with_one_error(
    gateway: Gateway,
) -> None:
    github_id, _, _ = await connections(gateway)
    panda = {"githubConnectionId": github_id, "owner": "acme", "repo": "web", "branch": "main"}
    async with gateway.client("acme-deploy") as client:
        for bad in (
            {k: v for k, v in panda.items() if k != "owner"},  # repo without owner
            {**panda, "repo": "..."},  # no app name can be made of it
            {**panda, "imageTag": "v1"},  # two sources
        ):
            assert_error(await client.post("/api/v1/deploy", json=bad), 400, "VALIDATION_ERROR")
        missing = {**panda, "repo": "nothing"}
        assert_error(
            await client.post("/api/v1/deploy", json=missing), 400, "GITHUB_REPOSITORY_NOT_FOUND"
        )
    async with gateway.client("globex-admin") as other:  # another tenant's connection
        foreign = {**panda, "namespace": "globex"}
        assert_error(await other.post("/api/v1/deploy", json=foreign), 400, "CONNECTION_NOT_FOUND")


async def test_an_image_tag_alone_deploys_with_the_app_name_as_repository(gateway: Gateway) -> None:
    # docs said imageRepository defaults to appName; the API answered 400 (issue 14 item 7)
    async with gateway.client("acme-deploy") as client:
        accepted = await client.post("/api/v1/deploy", json={"appName": "web", "imageTag": "v9"})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["data"]["image"] == "web:v9"


async def result(gw: Gateway, dep: str, who: str = "acme-read") -> dict[str, Any]:
    async with gw.client(who) as client:
        response = await client.get(f"/api/v1/deploy/{dep}/result")
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def test_a_completed_result_answers_panda_s_fields_beside_ours(gateway: Gateway) -> None:
    urls = {"blue_url": "http://web-blue.localhost/", "green_url": "http://web-green.localhost/"}
    dep, _ = await new_deployment(
        gateway.store,
        ColourAssigned(colour=Colour.GREEN, previous_colour=Colour.BLUE),
        StageStarted(stage=Stage.EXPOSE, deadline=T0),
        StageSucceeded(stage=Stage.EXPOSE, duration_ms=10, detail=urls),
        DeploymentCompleted(
            colour=Colour.GREEN,
            url="http://web.localhost/",
            stage_durations_ms={"expose": 10},
            total_duration_ms=84_250,
            new_colour_stats=ColourStats(
                colour=Colour.GREEN, checks=5, failures=0, latency_p50_ms=4.5, error_rate=0.0
            ),
            old_colour_stats=ColourStats(
                colour=Colour.BLUE, checks=5, failures=1, latency_p50_ms=9.0, error_rate=0.2
            ),
        ),
    )
    got = await result(gateway, dep)
    assert (got["status"], got["phase"], got["finalService"]) == ("COMPLETED", "SUCCEEDED", "green")
    assert (got["durationSeconds"], got["totalDurationMs"]) == (84.25, 84_250)
    assert (got["blueUrl"], got["greenUrl"]) == (urls["blue_url"], urls["green_url"])
    assert (got["greenLatencyMs"], got["greenErrorRate"]) == (4.5, 0.0)
    assert (got["blueLatencyMs"], got["blueErrorRate"]) == (9.0, 0.2)
    assert got["completedAt"] == got["finishedAt"] is not None
    assert (got["eventCount"], got["errorMessage"], got["error"]) == (5, None, None)
    async with gateway.client("acme-read") as client:
        page = await client.get("/api/v1/deployments", params={"status": "COMPLETED"})
    listed = {i["deploymentId"]: i for i in page.json()["data"]["items"]}
    assert (listed[dep]["status"], listed[dep]["phase"]) == ("COMPLETED", "SUCCEEDED")
    assert {i["status"] for i in listed.values()} == {"COMPLETED"}


async def test_a_timed_out_stage_is_deployment_timeout_with_stage_and_timeout(
    gateway: Gateway,
) -> None:
    timeout = {"reason": "ROLLOUT_TIMEOUT", "timeout_s": 600.0}
    message = "stage rollout did not finish within 600s"
    dep, _ = await new_deployment(
        gateway.store,
        StageStarted(stage=Stage.ROLLOUT, deadline=T0),
        StageFailed(
            stage=Stage.ROLLOUT,
            error_code="DEPLOYMENT_TIMEOUT",
            message=message,
            duration_ms=600_000,
            **timeout,
        ),
        DeploymentFailed(
            stage=Stage.ROLLOUT,
            error_code="DEPLOYMENT_TIMEOUT",
            message=message,
            rolled_back=True,
            serving_colour=None,
            total_duration_ms=612_500,
            **timeout,
        ),
    )
    got = await result(gateway, dep)
    assert (got["status"], got["phase"], got["errorCode"]) == (
        "FAILED",
        "FAILED",
        "DEPLOYMENT_TIMEOUT",
    )
    assert (got["stage"], got["timeoutSeconds"], got["durationSeconds"]) == ("rollout", 600, 612.5)
    assert got["errorReason"] == "ROLLOUT_TIMEOUT"
    assert got["error"] == {
        "status": 408,
        "error": "Request Timeout",
        "errorCode": "DEPLOYMENT_TIMEOUT",
        "reason": "ROLLOUT_TIMEOUT",
        "message": message,
        "stage": "rollout",
        "stageNumber": 3,
        "durationSeconds": 612.5,
        "timeoutSeconds": 600.0,
    }


async def test_a_cancelled_deployment_is_failed_to_panda_with_its_own_code(
    gateway: Gateway,
) -> None:
    dep, _ = await new_deployment(
        gateway.store,
        StageStarted(stage=Stage.ARTIFACT, deadline=T0),
        DeploymentCancelled(
            stage=Stage.ARTIFACT, reason="by ada", serving_colour=None, total_duration_ms=1_000
        ),
    )
    got = await result(gateway, dep)
    assert (got["status"], got["phase"], got["errorCode"]) == ("FAILED", "CANCELLED", "CANCELLED")
    assert (got["error"]["status"], got["error"]["stageNumber"]) == (409, 1)
    async with gateway.client("acme-read") as client:
        page = await client.get("/api/v1/deployments", params={"status": "FAILED", "limit": 200})
    assert dep in {i["deploymentId"] for i in page.json()["data"]["items"]}


async def test_another_tenant_s_result_answers_like_an_unknown_one(gateway: Gateway) -> None:
    dep, _ = await new_deployment(gateway.store)
    async with gateway.client("globex-admin") as other:
        foreign = await other.get(f"/api/v1/deploy/{dep}/result")
        unknown = await other.get("/api/v1/deploy/no-such-deployment/result")
    assert_error(foreign, 400, "DEPLOYMENT_NOT_FOUND")
    assert_error(unknown, 400, "DEPLOYMENT_NOT_FOUND")
