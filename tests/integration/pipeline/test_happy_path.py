"""A deployment through every stage, against real NATS, the sandbox cluster and moto."""

from __future__ import annotations

import httpx
import pytest
from kubernetes_asyncio import client

from flightdeck.events.cluster import DeploymentObserved, PodMetricsSampled
from flightdeck.events.deployments import Colour, DeploymentCompleted, StageProgressed
from tests.integration.pipeline.harness import NAMESPACE, Pipeline, milestones, summary
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

HAPPY = [
    "deploy.requested",
    "deploy.colour_assigned",
    "deploy.stage_started:artifact",
    "deploy.stage_succeeded:artifact",
    "deploy.stage_started:apply",
    "deploy.stage_succeeded:apply",
    "deploy.stage_started:rollout",
    "deploy.stage_succeeded:rollout",
    "deploy.stage_started:expose",
    "deploy.stage_succeeded:expose",
    "deploy.stage_started:verify",
    "deploy.stage_succeeded:verify",
    "deploy.stage_started:switch",
    "deploy.traffic_switched",
]
FIRST = [
    *HAPPY,
    "deploy.stage_succeeded:switch",
    "deploy.stage_started:complete",
    "deploy.stage_succeeded:complete",
    "deploy.completed",
]
SECOND = [
    *HAPPY,
    "deploy.colour_scaled_down",  # after the switch delay
    "deploy.stage_succeeded:switch",
    "deploy.stage_started:complete",
    "deploy.stage_succeeded:complete",
    "deploy.completed",
]


async def serving_pod(pipeline: Pipeline, host: str) -> str:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{pipeline.sandbox.ingress_url}/healthz", headers={"Host": host})
    return response.headers.get("x-sandbox-pod", "")


async def test_two_deployments_blue_then_green_with_every_stage_in_order(
    pipeline: Pipeline, kube: client.ApiClient
) -> None:
    await pipeline.sandbox.push_image("shop", "v1")
    first = await pipeline.deploy("shop", "v1")
    records = await pipeline.finished(first)

    assert milestones(records) == FIRST, summary(records)
    done = records[-1].event
    assert isinstance(done, DeploymentCompleted)
    assert (done.colour, done.previous_colour) == (Colour.BLUE, None)
    assert done.url is not None and done.url.startswith("http://shop.localhost:")
    assert done.new_colour_stats is not None and done.new_colour_stats.failures == 0
    assert done.event_count == len(records)

    # Every event continues the request's flow and names what caused it.
    assert {r.correlation_id for r in records} == {records[0].correlation_id}
    assert all(r.causation_id for r in records[1:])
    assert {r.actor for r in records[1:]} == {"service:orchestrator"}

    # The timeline shows the pods coming up, each state once, ending Ready.
    pods: dict[str, list[str]] = {}
    for r in records:
        if isinstance(r.event, StageProgressed) and "pod" in r.event.detail:
            pods.setdefault(str(r.event.detail["pod"]), []).append(str(r.event.detail["status"]))
    assert len(pods) == 2, pods
    for states in pods.values():
        assert len(states) == len(set(states)), states

    # Each health check of the new colour, in order, between Verify's start and end.
    checks = [
        r.event.detail["check"]
        for r in records
        if isinstance(r.event, StageProgressed) and "check" in r.event.detail
    ]
    assert checks == [1, 2, 3]

    assert (await serving_pod(pipeline, "shop.localhost")).startswith("shop-blue-")

    await pipeline.sandbox.push_image("shop", "v2")
    second = await pipeline.deploy("shop", "v2")
    records = await pipeline.finished(second)
    assert milestones(records) == SECOND, summary(records)
    done = records[-1].event
    assert (done.colour, done.previous_colour) == (Colour.GREEN, Colour.BLUE)
    assert done.old_colour_stats is not None and done.old_colour_stats.colour is Colour.BLUE

    assert (await serving_pod(pipeline, "shop.localhost")).startswith("shop-green-")
    apps = client.AppsV1Api(kube)
    blue = await apps.read_namespaced_deployment("shop-blue", NAMESPACE)
    assert blue.spec.replicas == 0
    service = await client.CoreV1Api(kube).read_namespaced_service("shop", NAMESPACE)
    assert service.spec.selector == {"app": "shop", "colour": "green"}

    # The watcher saw the scale-down too, and samples the pods' CPU and memory.
    observed = await pipeline.store.read_last(f"fd.evt.k8s.{NAMESPACE}.deployment.shop-blue")
    assert observed is not None and isinstance(observed.event, DeploymentObserved)

    async def sampled() -> bool:
        samples = await pipeline.store.read_latest(f"fd.evt.k8s.{NAMESPACE}.podmetrics.*")
        return any(
            isinstance(r.event, PodMetricsSampled) and r.event.pod.startswith("shop-")
            for r in samples
        )

    await eventually(sampled, within=30, what="pod metrics of shop")
