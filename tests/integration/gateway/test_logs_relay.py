"""The whole path: sandbox pods → the real k8s-watcher and log-relay processes → NATS → gateway.

A filtered stream must be exactly the unfiltered stream's lines of those
levels, and the unfiltered stream exactly each container's own log (as the
sandbox serves it), in order, with nothing repeated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from kubernetes_asyncio import client

from flightdeck.events import subjects
from flightdeck.eventstore import EventStore
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.ownership import Ownership
from flightdeck.sandbox import Sandbox, SandboxConfig, Timings
from tests.integration.gateway.conftest import CAUSE, Gateway
from tests.integration.gateway.test_logs_world import LogReader, Message
from tests.integration.log_relay.cluster import (
    Relays,
    base_env,
    contiguous_in,
    direct_lines,
)
from tests.support.kube import create_namespaces, kube_api
from tests.support.manifests import deployment
from tests.support.samples import requested
from tests.support.waiting import eventually
from tests.support.watcher import leading_watcher

pytestmark = pytest.mark.integration

NAMESPACE = "gw-logs"
APP = "chatty"
LEASES = "fd_leases_gateway_log_tests"
SANDBOX = SandboxConfig(
    speed=20.0, log_lines_per_second=20.0, timings=Timings(bookmark_interval=20.0)
)


@pytest.fixture(scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    async with Sandbox(Path(tmp_path_factory.mktemp("gw-log-sandbox")), config=SANDBOX) as sb:
        yield sb


@pytest.fixture(scope="module")
async def kube(sandbox: Sandbox) -> AsyncIterator[client.ApiClient]:
    await create_namespaces(sandbox.kubeconfig, [NAMESPACE])
    async with kube_api(sandbox.kubeconfig) as api:
        yield api


@pytest.fixture(scope="module")
async def relay(
    nats_server: NatsServer,
    store: EventStore,
    sandbox: Sandbox,
    kube: client.ApiClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Relays]:
    """The real k8s-watcher (pods of this namespace only) and one real log-relay."""
    logs = Path(tmp_path_factory.mktemp("gw-log-processes"))
    env = {
        **base_env(nats_server.url, sandbox.kubeconfig),
        "FLIGHTDECK_K8S__NAMESPACES": NAMESPACE,
        "FLIGHTDECK_K8S_WATCHER__KINDS": "Pod",
        "FLIGHTDECK_K8S_WATCHER__LEASE_BUCKET": LEASES,
        "FLIGHTDECK_K8S_WATCHER__LEASE_TTL_S": "5",
        "FLIGHTDECK_K8S_WATCHER__METRICS_INTERVAL_S": "3600",
    }
    relays = Relays(base_env(nats_server.url, sandbox.kubeconfig), logs)
    async with leading_watcher(store, env, logs / "k8s-watcher.log"):
        try:
            await relays.start("gw-relay-1", NAMESPACE)
            yield relays
        finally:
            relays.stop_all()


def key(m: Message) -> tuple[str, str]:
    return m.data["pod"], m.data["container"]


async def test_sandbox_pods_through_the_relay_to_a_filtered_stream(
    gateway: Gateway, relay: Relays, kube: client.ApiClient
) -> None:
    # arrange: the app belongs to acme (so does gw-logs, conftest); its two pods log (20 lines/s each, all levels)
    request = requested("gw-logs-chatty", APP, namespace=NAMESPACE, registry=None)
    await Ownership(gateway.store).claim_app("acme", NAMESPACE, APP, request.deployment_id, CAUSE)
    await gateway.store.append(subjects.deployment(request.deployment_id), [request], cause=CAUSE)
    await client.AppsV1Api(kube).create_namespaced_deployment(
        NAMESPACE, deployment(APP, "shop/chatty:v1", replicas=2)
    )
    path = f"/api/v1/logs/{APP}/stream"
    everything = {"namespace": NAMESPACE, "since": "2000-01-01T00:00:00Z"}
    # act: one stream of ERROR and WARN lines, one of all lines, both from the start
    async with (
        LogReader(gateway, path, {**everything, "levels": "ERROR,WARN"}) as serious,
        LogReader(gateway, path, everything) as unfiltered,
    ):

        async def enough() -> bool:
            return len(serious.lines()) >= 40 and {key(m) for m in serious.lines()} == {
                key(m) for m in unfiltered.lines()
            }

        await eventually(enough, within=60, what="40 ERROR/WARN lines from both pods")
        last = serious.lines()[-1].id

        async def unfiltered_past_it() -> bool:
            return last in {m.id for m in unfiltered.lines()}

        await eventually(unfiltered_past_it)
        got, every = serious.lines(), unfiltered.lines()
    # assert: the filtered stream is the unfiltered one's ERROR/WARN lines, nothing else
    ids = [m.id for m in every]
    upto = every[: ids.index(last) + 1]
    assert [m.id for m in got] == [m.id for m in upto if m.data["level"] in ("ERROR", "WARN")]
    assert len(set(ids)) == len(ids), "a line was sent twice"
    # and the unfiltered stream is each container's own log, in order
    core = client.CoreV1Api(kube)
    for pod, container in {key(m) for m in every}:
        mine = [(m.data["time"], m.data["text"]) for m in every if key(m) == (pod, container)]
        direct = [
            (at.isoformat().replace("+00:00", "Z"), text)
            for at, text in await direct_lines(core, NAMESPACE, pod, container)
        ]
        assert contiguous_in(mine, direct), f"{pod}/{container}: not its log, in order"
    # a client resuming after its 10th line gets exactly what followed
    resume = {**everything, "levels": "ERROR,WARN"}
    headers = {"Last-Event-ID": got[9].id}
    async with LogReader(gateway, path, resume, headers) as again:
        await again.wait_lines(len(got) - 10)
    assert [m.id for m in again.lines()[: len(got) - 10]] == [m.id for m in got[10:]]
