"""The Kubernetes adapters speak their domain's errors, not their client library's.

The watcher's and the relay's service layers never import an adapter or a
client library (the layering contracts in the root ``pyproject.toml``), so
they retry on what the domain names: the adapters must turn an error answer,
an expired watch and a refused connection into exactly those.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from kubernetes_asyncio import client

from flightdeck.k8s_watcher.adapters.kube import ClusterReader
from flightdeck.k8s_watcher.domain.failures import TRANSIENT, ClusterUnavailable, Expired
from flightdeck.log_relay.adapters.kube import PodLogs
from flightdeck.log_relay.domain.logreads import STREAM_ERRORS, LogRequest, LogStreamBroken
from flightdeck.log_relay.domain.selection import ContainerKey
from flightdeck.sandbox import Sandbox
from tests.support import manifests

pytestmark = pytest.mark.integration


@pytest.fixture
async def nowhere() -> AsyncIterator[client.ApiClient]:
    """A client for a Kubernetes API that refuses connections (a port nobody listens on)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configuration = client.Configuration(host=f"http://127.0.0.1:{port}")
    async with client.ApiClient(configuration) as api:
        yield api


async def test_an_error_answer_is_cluster_unavailable_and_retried(
    sandbox: Sandbox, api_client: client.ApiClient, namespace: str
) -> None:
    reader = ClusterReader(api_client)
    await sandbox.faults.fail_api(status=503, count=1)

    with pytest.raises(ClusterUnavailable, match="503") as failed:
        await reader.list_objects("Pod", namespace)
    items, version = await reader.list_objects("Pod", namespace)

    assert isinstance(failed.value, TRANSIENT)
    assert items == [] and version


async def test_a_watch_from_an_expired_version_is_expired(
    sandbox: Sandbox, api_client: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    # arrange: a version the server no longer keeps
    await core.create_namespaced_pod(namespace, manifests.pod("a", "shop/app:v1", {"app": "a"}))
    reader = ClusterReader(api_client)
    _, version = await reader.list_objects("Pod", namespace)
    await sandbox.faults.expire_resource_versions()

    # act and assert: the watcher lists again on Expired, so it must not look transient
    with pytest.raises(Expired) as expired:
        async for _ in reader.watch("Pod", namespace, version, timeout_s=30):
            pass
    assert not isinstance(expired.value, TRANSIENT)


async def test_a_refused_connection_is_unavailable_to_both_adapters(
    nowhere: client.ApiClient,
) -> None:
    with pytest.raises(ClusterUnavailable) as watcher_failed:
        await ClusterReader(nowhere).list_objects("Pod", "default")
    with pytest.raises(LogStreamBroken) as relay_failed:
        async with PodLogs(nowhere, connect_timeout_s=5, idle_timeout_s=5).open(
            ContainerKey("default", "web-1", "web"), LogRequest()
        ):
            pass

    assert isinstance(watcher_failed.value, TRANSIENT)
    assert isinstance(relay_failed.value, STREAM_ERRORS)
