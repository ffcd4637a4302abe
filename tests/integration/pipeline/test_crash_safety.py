"""Crashes, replicas and lost connections: the deployment still completes, exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from functools import partial
from typing import Any

import pytest
from kubernetes_asyncio import client

from flightdeck.events import Recorded
from flightdeck.events.cluster import DeploymentObserved, PodObserved
from flightdeck.events.deployments import Stage, StageProgressed, StageStarted
from tests.integration.pipeline.harness import NAMESPACE, Pipeline, milestones, summary
from tests.integration.pipeline.test_happy_path import FIRST
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def rollout_started(records: list[Recorded[Any]]) -> bool:
    return any(
        isinstance(r.event, StageStarted) and r.event.stage is Stage.ROLLOUT for r in records
    )


def assert_no_duplicates(records: list[Recorded[Any]]) -> None:
    """One event per milestone, each pod state once, every event id once."""
    assert milestones(records) == FIRST, summary(records)
    assert len({r.id for r in records}) == len(records)
    progress = Counter(
        tuple(sorted((k, str(v)) for k, v in r.event.detail.items() if k != "position"))
        for r in records
        if isinstance(r.event, StageProgressed) and r.event.detail
    )
    assert all(n == 1 for n in progress.values()), progress


async def rolled_out(kube: client.ApiClient, name: str, replicas: int = 2) -> bool:
    found = await client.AppsV1Api(kube).read_namespaced_deployment(name, NAMESPACE)
    return (found.status.available_replicas or 0) == replicas


async def test_orchestrator_killed_mid_rollout_completes_after_restart(
    pipeline: Pipeline, kube: client.ApiClient
) -> None:
    await pipeline.sandbox.push_image("phoenix", "v1")
    watcher, orchestrator = pipeline.one("k8s-watcher"), pipeline.one("orchestrator")
    watcher.pause()
    try:
        deployment = await pipeline.deploy("phoenix", "v1")
        await pipeline.wait(deployment, rollout_started, what="rollout to start")
        orchestrator.kill()  # SIGKILL, mid-rollout
    finally:
        watcher.resume()
    # The pods come up while no orchestrator runs; the watcher records it.
    await eventually(lambda: rolled_out(kube, "phoenix-blue"), within=30, what="pods up")
    await asyncio.sleep(0.5)
    pipeline.spawn("orchestrator")
    records = await pipeline.finished(deployment)
    assert records[-1].type == "deploy.completed", summary(records)
    assert_no_duplicates(records)


async def test_two_orchestrators_advance_each_deployment_once(pipeline: Pipeline) -> None:
    second = pipeline.spawn("orchestrator")
    try:
        await pipeline.wait_consumers("orchestrator", replicas=2)
        apps = [f"twin{n}" for n in range(3)]
        for app in apps:
            await pipeline.sandbox.push_image(app, "v1")
        deployments = [await pipeline.deploy(app, "v1") for app in apps]
        for deployment in deployments:
            records = await pipeline.finished(deployment)
            assert records[-1].type == "deploy.completed", summary(records)
            assert_no_duplicates(records)
    finally:
        second.stop()


async def test_watch_dropped_and_expired_mid_rollout_misses_no_transition(
    pipeline: Pipeline, kube: client.ApiClient
) -> None:
    await pipeline.sandbox.push_image("flaky", "v1")
    watcher = pipeline.one("k8s-watcher")
    watcher.pause()
    try:
        deployment = await pipeline.deploy("flaky", "v1")
        await pipeline.wait(deployment, rollout_started, what="rollout to start")
        assert await pipeline.sandbox.faults.drop_watches() > 0
        await pipeline.sandbox.faults.expire_resource_versions()
        await eventually(lambda: rolled_out(kube, "flaky-blue"), within=30, what="pods up")
    finally:
        watcher.resume()
    records = await pipeline.finished(deployment)
    assert records[-1].type == "deploy.completed", summary(records)
    assert_no_duplicates(records)

    # What happened while the watch was down reached the stream: every pod Ready.
    pods = await client.CoreV1Api(kube).list_namespaced_pod(NAMESPACE, label_selector="app=flaky")
    assert len(pods.items) == 2

    async def ready(name: str) -> bool:
        last = await pipeline.store.read_last(f"fd.evt.k8s.{NAMESPACE}.pod.{name}")
        return last is not None and isinstance(last.event, PodObserved) and last.event.ready

    for name in [pod.metadata.name for pod in pods.items]:
        await eventually(partial(ready, name), within=30, what=f"{name} Ready published")
    observed = await pipeline.store.read_last(f"fd.evt.k8s.{NAMESPACE}.deployment.flaky-blue")
    assert isinstance(observed.event, DeploymentObserved) and observed.event.available_replicas == 2
    assert "watch expired, listing again" in watcher.log.read_text()
