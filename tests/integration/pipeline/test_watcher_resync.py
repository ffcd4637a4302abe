"""The k8s-watcher killed (SIGKILL) while the cluster changes: on restart it resyncs.

Finding 5 of issue 12: pods that became Ready while the watcher was down were
missing from the deployment's timeline after it restarted. A restarted watcher
re-lists, compares with the last state it published (read from the stream),
and publishes every difference, parts before wholes (pods before the
Deployment that counts them), so the history and the timeline hold what
happened while it was away.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes_asyncio import client

from flightdeck.events import Recorded
from flightdeck.events.cluster import PodObserved
from flightdeck.events.deployments import StageProgressed
from tests.integration.pipeline.harness import NAMESPACE, Pipeline, summary
from tests.integration.pipeline.test_crash_safety import (
    assert_no_duplicates,
    rolled_out,
    rollout_started,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def pod_timeline(records: list[Recorded[Any]]) -> dict[str, list[str]]:
    """Pod name → the statuses the deployment's timeline gave it, in order."""
    pods: dict[str, list[str]] = {}
    for r in records:
        if isinstance(r.event, StageProgressed) and "pod" in r.event.detail:
            pods.setdefault(str(r.event.detail["pod"]), []).append(str(r.event.detail["status"]))
    return pods


async def test_pods_ready_while_the_watcher_was_killed_reach_history_and_timeline(
    pipeline: Pipeline, kube: client.ApiClient
) -> None:
    # arrange: the watcher is frozen before the deployment, so it sees none of its pods
    await pipeline.sandbox.push_image("lazarus", "v1")
    watcher = pipeline.one("k8s-watcher")
    watcher.pause()
    try:
        deployment = await pipeline.deploy(
            "lazarus", "v1", stage_timeout_s=120.0, overall_timeout_s=240.0
        )
        await pipeline.wait(deployment, rollout_started, what="rollout to start")
        await eventually(lambda: rolled_out(kube, "lazarus-blue"), within=30, what="pods up")
    finally:
        watcher.kill()  # SIGKILL while frozen: it never saw the pods become Ready
    pods = await client.CoreV1Api(kube).list_namespaced_pod(
        NAMESPACE, label_selector="app=lazarus"
    )
    names = sorted(pod.metadata.name for pod in pods.items)
    assert len(names) == 2
    for name in names:
        assert await pipeline.store.read_last(f"fd.evt.k8s.{NAMESPACE}.pod.{name}") is None

    # act: a new watcher process (what `flightdeck up` does after a crash)
    pipeline.spawn("k8s-watcher")
    records = await pipeline.finished(deployment, within=120)

    # assert: each pod's Ready state is in the history, and in the deployment's timeline
    assert records[-1].type == "deploy.completed", summary(records)
    assert_no_duplicates(records)
    for name in names:
        last = await pipeline.store.read_last(f"fd.evt.k8s.{NAMESPACE}.pod.{name}")
        assert last is not None and isinstance(last.event, PodObserved), name
        assert (last.event.phase, last.event.ready) == ("Running", True), last.event
    timeline = pod_timeline(records)
    assert sorted(timeline) == names, summary(records)
    assert all(states[-1] == "Ready" for states in timeline.values()), timeline
