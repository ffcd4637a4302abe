"""The watcher, the lease and the ecr-poller in-process, against the sandbox and NATS."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes_asyncio import client

from flightdeck.ecr_poller.adapters.ecr import Ecr
from flightdeck.ecr_poller.service_layer.polling import Poller
from flightdeck.events import Recorded, new_id, subjects
from flightdeck.events.artifacts import ImageMissing, ImageObserved
from flightdeck.events.commands import WatchImage
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream.buckets import JetStreamBuckets
from flightdeck.k8s_watcher.adapters.kube import ClusterReader
from flightdeck.k8s_watcher.adapters.lease import Lease
from flightdeck.k8s_watcher.adapters.publisher import Publisher
from flightdeck.k8s_watcher.service_layer.watching import KindWatcher
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.kube import KubernetesSettings, api_client
from flightdeck.sandbox import Sandbox
from tests.support.recorded import recorded
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_a_relist_or_a_restart_publishes_nothing_already_known(
    store: EventStore, pipeline_sandbox: Sandbox, kube: client.ApiClient
) -> None:
    namespace = f"w-{new_id()[:8]}"
    core = client.CoreV1Api(kube)
    await core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    for name in ("alpha", "beta"):
        await core.create_namespaced_service(
            namespace, {"metadata": {"name": name}, "spec": {"ports": [{"port": 80}]}}
        )
    reader = ClusterReader(
        await api_client(KubernetesSettings(kubeconfig=pipeline_sandbox.kubeconfig))
    )
    try:
        first = Publisher(store)
        watcher = KindWatcher(reader, first, "Service", namespace)
        await first.seed(namespace, "Service")
        await watcher.relist()
        assert first.published == 2
        await watcher.relist()  # a resync: same objects, nothing new
        assert first.published == 2

        await core.delete_namespaced_service("beta", namespace)
        restarted = Publisher(store)  # a new process: knows only what the stream says
        await restarted.seed(namespace, "Service")
        await KindWatcher(reader, restarted, "Service", namespace).relist()
        # beta's deletion only: alpha, unchanged since the stream's last word, is not news
        assert (restarted.published, restarted.skipped) == (1, 0)
        last = await store.read_last(subjects.cluster_object(namespace, "Service", "beta"))
        assert last is not None and last.type == "k8s.resource_deleted"
    finally:
        await reader.close()


async def test_one_leader_at_a_time_and_a_successor_after_expiry(store: EventStore) -> None:
    buckets = JetStreamBuckets(store.nc)
    bucket, key = f"leases_{new_id()[:8]}", "watcher"
    first = Lease(buckets, bucket, key, "first", ttl_s=1.0)
    second = Lease(buckets, bucket, key, "second", ttl_s=1.0)
    assert await first.acquire()
    assert not await second.acquire()
    assert await first.renew()
    # The first stops renewing (a crash): after the TTL the second takes over, and the
    # first's next renewal fails, so it stops publishing.
    await eventually(second.acquire, within=10, what="takeover after expiry")
    assert not await first.renew()


async def test_one_poll_per_repository_answers_every_watch_on_it(
    store: EventStore, pipeline_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    repo = f"poll-{new_id()[:8]}"
    ecr = Ecr(
        AwsSettings(endpoint_url=pipeline_sandbox.aws_endpoint, region=pipeline_sandbox.aws_region)
    )
    poller = Poller(store, ecr, lambda: datetime.now(UTC), interval_s=0.3)
    soon = datetime.now(UTC) + timedelta(seconds=20)

    def watch(tag: str, deployment: str, deadline: datetime = soon) -> Recorded[Any]:
        return _recorded(
            WatchImage(repository=repo, tag=tag, deadline=deadline, deployment_id=deployment)
        )

    started = time.monotonic()
    try:
        waits = [
            asyncio.create_task(poller.watch(watch("v1", "d1"))),
            asyncio.create_task(poller.watch(watch("v1", "d2"))),
            asyncio.create_task(poller.watch(watch("v2", "d3"))),
            asyncio.create_task(
                poller.watch(watch("v9", "d4", datetime.now(UTC) + timedelta(seconds=1)))
            ),
        ]
        await asyncio.sleep(0.5)
        await pipeline_sandbox.push_image(repo, "v1")
        await pipeline_sandbox.push_image(repo, "v2")
        await asyncio.wait_for(asyncio.gather(*waits), 30)
    finally:
        await poller.close()
        await ecr.close()
    # One request per interval for all four watches (plus the first, plus one at v9's deadline).
    assert poller.polls <= (time.monotonic() - started) / 0.3 + 2
    v1 = [r.event for r in await store.read(subjects.image(repo, "v1"))]
    assert len(v1) == 1 and isinstance(v1[0], ImageObserved)
    assert v1[0].deployment_ids == ["d1", "d2"] and v1[0].digest.startswith("sha256:")
    missing = (await store.read(subjects.image(repo, "v9")))[-1].event
    assert isinstance(missing, ImageMissing) and missing.deployment_ids == ["d4"]


def _recorded(event: Any) -> Recorded[Any]:
    return recorded("fd.cmd.ecr-poller.watch-image", event, at=datetime.now(UTC))
