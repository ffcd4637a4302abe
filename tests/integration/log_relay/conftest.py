"""The log-relay's world: one sandbox and one k8s-watcher, started once for these tests.

Package-scoped (like the pipeline tests' world): started at the first log-relay
test, stopped after the last, so no other test pays for pods that keep logging.

The real k8s-watcher process publishes the pod events the relay discovers pods
from. It gets its own lease bucket, so it never competes with the pipeline
tests' watcher on the shared nats-server, and watches only this package's
namespaces (one per test, so tests never see each other's pods or cursors).
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from flightdeck.eventstore import EventStore
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.sandbox import Sandbox, SandboxConfig, Timings
from tests.integration.log_relay.cluster import Relays, base_env
from tests.support.kube import create_namespaces, kube_api
from tests.support.watcher import leading_watcher

NAMESPACES = (
    "lr-order",
    "lr-replace",
    "lr-restart",
    "lr-kill",
    "lr-replicas",
    "lr-rules",
    "lr-node",
)
WATCHER_LEASES = "fd_leases_log_relay_tests"

# 20 simulated seconds per real second, 20 lines a second per container (wall clock).
SANDBOX = SandboxConfig(
    speed=20.0, log_lines_per_second=20.0, timings=Timings(bookmark_interval=20.0)
)


@pytest.fixture(scope="package")
async def log_sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    async with Sandbox(Path(tmp_path_factory.mktemp("log-sandbox")), config=SANDBOX) as sb:
        await create_namespaces(sb.kubeconfig, NAMESPACES)
        yield sb


@pytest.fixture(scope="package")
async def kube(log_sandbox: Sandbox) -> AsyncIterator[client.ApiClient]:
    async with kube_api(log_sandbox.kubeconfig) as api:
        yield api


@pytest.fixture(scope="package")
def core(kube: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(kube)


@pytest.fixture(scope="package")
def apps(kube: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(kube)


@pytest.fixture(scope="package")
async def pod_watcher(
    nats_server: NatsServer,
    store: EventStore,
    log_sandbox: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The real k8s-watcher, watching pods of this package's namespaces."""
    env = {
        **base_env(nats_server.url, log_sandbox.kubeconfig),
        "FLIGHTDECK_K8S__NAMESPACES": ",".join(NAMESPACES),
        "FLIGHTDECK_K8S_WATCHER__KINDS": "Pod",
        "FLIGHTDECK_K8S_WATCHER__LEASE_BUCKET": WATCHER_LEASES,
        "FLIGHTDECK_K8S_WATCHER__LEASE_TTL_S": "5",
        "FLIGHTDECK_K8S_WATCHER__METRICS_INTERVAL_S": "3600",
    }
    log = Path(tmp_path_factory.mktemp("log-watcher")) / "k8s-watcher.log"
    async with leading_watcher(store, env, log) as proc:
        yield proc


@pytest.fixture
async def relays(
    nats_server: NatsServer,
    log_sandbox: Sandbox,
    pod_watcher: subprocess.Popen[bytes],
    tmp_path: Path,
) -> AsyncIterator[Relays]:
    running = Relays(base_env(nats_server.url, log_sandbox.kubeconfig), tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
