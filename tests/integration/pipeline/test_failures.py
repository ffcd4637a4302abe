"""Deployments that fail, each for its own reason, and always leave the old colour serving."""

from __future__ import annotations

import httpx
import pytest
from kubernetes_asyncio import client

from flightdeck.events.deployments import (
    Colour,
    DeploymentCancelled,
    DeploymentFailed,
    Stage,
    StageFailed,
    StageStarted,
    colour_name,
)
from flightdeck.orchestrator.entrypoints.sample import cancel_deployment
from tests.integration.pipeline.harness import NAMESPACE, Pipeline, milestones, summary

pytestmark = pytest.mark.integration


def failure(records) -> DeploymentFailed:
    final = records[-1].event
    assert isinstance(final, DeploymentFailed), summary(records)
    return final


async def test_an_image_that_never_appears_times_out_the_artifact_stage(pipeline: Pipeline) -> None:
    await pipeline.sandbox.push_image("ghost", "v0")  # the repository exists, v1 never comes
    deployment = await pipeline.deploy("ghost", "v1", stage_timeout_s=1.5)
    records = await pipeline.finished(deployment)
    assert milestones(records) == [
        "deploy.requested",
        "deploy.colour_assigned",
        "deploy.stage_started:artifact",
        "deploy.stage_failed:artifact",
        "deploy.failed",
    ]
    failed = failure(records)
    assert (failed.error_code, failed.reason, failed.timeout_s) == (
        "DEPLOYMENT_TIMEOUT",
        "ARTIFACT_TIMEOUT",
        1.5,
    )
    assert (failed.rolled_back, failed.serving_colour) == (False, None)
    assert "ghost:v1" in failed.message


async def test_a_repository_that_does_not_exist_fails_the_artifact_stage_at_once(
    pipeline: Pipeline,
) -> None:
    deployment = await pipeline.deploy("nowhere", "v1", stage_timeout_s=120, overall_timeout_s=300)
    records = await pipeline.finished(deployment, within=60)
    failed = failure(records)
    assert (failed.stage, failed.error_code, failed.rolled_back) == (
        Stage.ARTIFACT,
        "REPOSITORY_NOT_FOUND",
        False,
    )
    assert "repository nowhere not found" in failed.message


async def test_a_health_path_the_prober_cannot_send_fails_verify_at_once(
    pipeline: Pipeline,
) -> None:
    await pipeline.sandbox.push_image("crlf", "v1")
    deployment = await pipeline.deploy(
        "crlf", "v1", health_path="/he\r\nalth", stage_timeout_s=120, overall_timeout_s=300
    )
    records = await pipeline.finished(deployment, within=60)
    failed = failure(records)
    assert (failed.stage, failed.error_code) == (Stage.VERIFY, "VERIFY_TARGET_INVALID")
    assert "control character" in failed.message


@pytest.mark.parametrize(
    ("app", "tag", "code"),
    [("pullfail", "v1-pullfail", "IMAGE_PULL_FAILED"), ("crashy", "v1-crash", "CRASH_LOOP")],
)
async def test_a_broken_pod_fails_the_rollout_fast_and_is_scaled_away(
    pipeline: Pipeline, kube: client.ApiClient, app: str, tag: str, code: str
) -> None:
    await pipeline.sandbox.push_image(app, tag)
    deployment = await pipeline.deploy(app, tag)
    records = await pipeline.finished(deployment)
    assert milestones(records)[-4:] == [
        "deploy.stage_started:rollout",
        "deploy.stage_failed:rollout",
        "deploy.colour_scaled_down",
        "deploy.failed",
    ], summary(records)
    failed = failure(records)
    assert (failed.stage, failed.error_code, failed.rolled_back) == (Stage.ROLLOUT, code, True)
    broken = await client.AppsV1Api(kube).read_namespaced_deployment(
        colour_name(app, Colour.BLUE), NAMESPACE
    )
    assert broken.spec.replicas == 0


async def test_a_new_colour_failing_its_health_checks_leaves_the_old_one_serving(
    pipeline: Pipeline, kube: client.ApiClient
) -> None:
    await pipeline.sandbox.push_image("cart", "v1")
    await pipeline.sandbox.push_image("cart", "v2-unhealthy")
    first = await pipeline.finished(await pipeline.deploy("cart", "v1"))
    assert first[-1].type == "deploy.completed", summary(first)

    records = await pipeline.finished(await pipeline.deploy("cart", "v2-unhealthy"))
    failed = failure(records)
    assert (failed.stage, failed.error_code, failed.serving_colour) == (
        Stage.VERIFY,
        "HEALTH_CHECK_FAILED",
        Colour.BLUE,
    )
    assert "traffic_switched" not in " ".join(summary(records))
    service = await client.CoreV1Api(kube).read_namespaced_service("cart", NAMESPACE)
    assert service.spec.selector == {"app": "cart", "colour": "blue"}
    async with httpx.AsyncClient() as http:
        for _ in range(5):
            answer = await http.get(
                f"{pipeline.sandbox.ingress_url}/healthz", headers={"Host": "cart.localhost"}
            )
            assert answer.status_code == 200
            assert answer.headers["x-sandbox-pod"].startswith("cart-blue-")


async def test_cancel_mid_rollout(pipeline: Pipeline, kube: client.ApiClient) -> None:
    await pipeline.sandbox.push_image("slow", "v1")
    watcher = pipeline.one("k8s-watcher")
    watcher.pause()  # no observations: the rollout cannot finish before we cancel
    try:
        deployment = await pipeline.deploy("slow", "v1")
        await pipeline.wait(
            deployment,
            lambda rs: any(
                isinstance(r.event, StageStarted) and r.event.stage is Stage.ROLLOUT for r in rs
            ),
            what="rollout to start",
        )
        await cancel_deployment(
            pipeline.store, deployment, reason="changed my mind", actor="user:ada"
        )
        records = await pipeline.finished(deployment)
    finally:
        watcher.resume()
    assert milestones(records)[-4:] == [
        "deploy.stage_started:rollout",
        "deploy.stage_failed:rollout",
        "deploy.colour_scaled_down",
        "deploy.cancelled",
    ], summary(records)
    stage_failed = next(r.event for r in records if isinstance(r.event, StageFailed))
    assert stage_failed.error_code == "CANCELLED"
    cancelled = records[-1].event
    assert isinstance(cancelled, DeploymentCancelled)
    assert (cancelled.stage, cancelled.reason) == (Stage.ROLLOUT, "changed my mind")
    cancelled_by = next(r for r in records if isinstance(r.event, StageFailed))
    assert cancelled_by.causation_id is not None  # the cancel command
    new = await client.AppsV1Api(kube).read_namespaced_deployment("slow-blue", NAMESPACE)
    assert new.spec.replicas == 0
