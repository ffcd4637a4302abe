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
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import nats.errors
import pytest
from kubernetes_asyncio import client, config

from flightdeck.eventstore import EventStore
from flightdeck.runtime import processes
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.sandbox import Sandbox, SandboxConfig, Timings
from tests.integration.log_relay.cluster import Relays, base_env, eventually

NAMESPACES = ("lr-order", "lr-replace", "lr-restart", "lr-kill", "lr-replicas", "lr-rules")
WATCHER_LEASES = "fd_leases_log_relay_tests"

# 20 simulated seconds per real second, 20 lines a second per container (wall clock).
SANDBOX = SandboxConfig(
    speed=20.0, log_lines_per_second=20.0, timings=Timings(bookmark_interval=20.0)
)


@pytest.fixture(scope="package")
async def log_sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    async with Sandbox(Path(tmp_path_factory.mktemp("log-sandbox")), config=SANDBOX) as sb:
        configuration = client.Configuration()
        await config.load_kube_config(str(sb.kubeconfig), client_configuration=configuration)
        async with client.ApiClient(configuration) as api:
            for name in NAMESPACES:
                await client.CoreV1Api(api).create_namespace(
                    client.V1Namespace(metadata=client.V1ObjectMeta(name=name))
                )
        yield sb


@pytest.fixture(scope="package")
async def kube(log_sandbox: Sandbox) -> AsyncIterator[client.ApiClient]:
    configuration = client.Configuration()
    await config.load_kube_config(str(log_sandbox.kubeconfig), client_configuration=configuration)
    async with client.ApiClient(configuration) as api:
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
    with log.open("ab") as out:
        proc = processes.spawn(
            [sys.executable, "-m", "flightdeck.k8s_watcher"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    async def leading() -> bool:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            kv = await store.nc.jetstream().key_value(WATCHER_LEASES)
            await kv.get("k8s-watcher")
        except (nats.errors.Error, Exception):
            return False
        return True

    try:
        await eventually(leading, within=60, what="the k8s-watcher to lead")
        yield proc
    finally:
        processes.stop(proc, timeout=10)


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
