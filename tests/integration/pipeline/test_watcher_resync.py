"""The k8s-watcher killed (SIGKILL) while the cluster changes: on restart it resyncs.

Finding 5 of issue 12: pods that became Ready while the watcher was down were
missing from the deployment's timeline after it restarted. A restarted watcher
re-lists, compares with the last state it published (read from the stream),
and publishes every difference, parts before wholes (pods before the
Deployment that counts them), so the history and the timeline hold what
happened while it was away.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from kubernetes_asyncio import client

from flightdeck.events import Cause, Codec, Recorded, new_id, subjects
from flightdeck.events.cluster import PodObserved, ResourceDeleted, ServiceObserved
from flightdeck.events.deployments import StageProgressed
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.eventstore.jetstream.buckets import JetStreamBuckets
from flightdeck.k8s_watcher.adapters.publisher import Publisher
from flightdeck.k8s_watcher.bootstrap import build
from flightdeck.k8s_watcher.config import WatcherSettings
from flightdeck.runtime.connection import connect
from flightdeck.runtime.kube import KubernetesSettings
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.sandbox import Sandbox
from tests.integration.pipeline.harness import NAMESPACE, Pipeline, summary
from tests.integration.pipeline.test_crash_safety import (
    assert_no_duplicates,
    rolled_out,
    rollout_started,
)
from tests.support.nats_proxy import LossyNatsProxy
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
    pods = await client.CoreV1Api(kube).list_namespaced_pod(NAMESPACE, label_selector="app=lazarus")
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


async def test_after_a_nats_reconnect_the_watcher_resyncs_with_what_the_stream_says(
    store: EventStore, nats_server: NatsServer, pipeline_sandbox: Sandbox, kube: client.ApiClient
) -> None:
    # arrange: a watcher whose NATS connection goes through a proxy we can cut
    namespace = f"re-{new_id()[:8]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    await core.create_namespaced_service(
        namespace, {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    )
    subject = subjects.cluster_object(namespace, "Service", "web")
    proxy = await LossyNatsProxy(nats_server.host, nats_server.port).start()
    nc = await connect(proxy.url, "watcher-under-test")
    watcher = await build(
        JetStreamEventStore(nc, Codec("/flightdeck/k8s-watcher")),
        JetStreamBuckets(nc),
        KubernetesSettings(kubeconfig=pipeline_sandbox.kubeconfig, namespaces=namespace),
        WatcherSettings(kinds="Service", metrics_interval_s=3600),
    )
    watching = asyncio.create_task(watcher.watch())
    try:

        async def last() -> Any:
            found = await store.read_last(subject)
            return found.event if found is not None else None

        await eventually(lambda: _is(last(), ServiceObserved), within=30, what="web published once")

        # act: while the watcher is cut off, the history moves without it (a deposed
        # leader's late word: the Service is said to be deleted, but it is alive)
        await proxy.cut()
        await store.append(
            subject,
            [ResourceDeleted(kind="Service", namespace=namespace, name="web", uid="stale")],
            cause=Cause(actor="service:k8s-watcher", correlation_id=new_id()),
        )
        await proxy.restore()

        # assert: back on NATS, it compared the stream with the cluster and set it right
        await eventually(
            lambda: _is(last(), ServiceObserved), within=30, what="web published again"
        )
        assert watcher.resyncs >= 2
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        await watcher.close()
        await nc.close()
        await proxy.stop()


async def test_garbage_as_an_objects_last_word_does_not_silence_the_watcher_on_it(
    store: EventStore,
) -> None:
    namespace = f"junk-{new_id()[:8]}"
    subject = subjects.cluster_object(namespace, "Service", "web")
    await store.nc.jetstream().publish(subject, b"\x00 not an event")
    publisher = Publisher(store)  # a (re)started watcher: learns from the stream first
    await publisher.seed(namespace, "Service")
    web = ServiceObserved(
        namespace=namespace,
        name="web",
        uid="u1",
        selector={"app": "web"},
        cluster_ip=None,
        ports=[80],
        resource_version="1",
    )
    assert await publisher.observe("Service", "web", web, "u1")
    last = await store.read_last(subject)
    assert last is not None and last.event == web


async def _is(found: Any, kind: type) -> bool:
    return isinstance(await found, kind)
