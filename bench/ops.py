"""Ops actions, request to Kubernetes effect (ADR 0022), every service its own process.

The bench POSTs an ops action to the gateway (a process, the real entry point)
and takes the time until the k8s-watcher's observation of the effect reaches it
over NATS: the same events the app's live stream carries. Per action:

- **scale** (1 ↔ 2 replicas): until the Deployment is observed with the new
  ``spec.replicas``;
- **pod restart**: until the pod is observed terminating or deleted, and until
  its replacement is observed;
- **rollout restart**: until the first pod of the new rollout is observed.

Also the 202's own latency (the gateway waits for the outcome). The apps are set
up directly (a Deployment per app in the sandbox, its slot released as serving
blue), so no pipeline runs: the figures are the ops path alone.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from kubernetes_asyncio import client, config

from bench.harness import GatewayProcess, console, private_nats, report
from flightdeck.events import Cause, Codec, Recorded, declare, new_id, streams, subjects
from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.cluster import DeploymentObserved, PodObserved, ResourceDeleted
from flightdeck.events.deployments import Colour, DeploymentStatus
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime import processes
from flightdeck.runtime.connection import connect
from flightdeck.runtime.ownership import Ownership
from flightdeck.sandbox import Sandbox, SandboxConfig
from tests.support.manifests import deployment

NAMESPACE = "bench-ops"
TENANT = "dev"
SERVICES = {"k8s-watcher": "flightdeck.k8s_watcher", "orchestrator": "flightdeck.orchestrator"}
CAUSE = Cause.root("service:bench")


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.0f} / p99 {p99:.0f} / max {ordered[-1]:.0f}"


class Observations:
    """The watcher's events of the namespace as they reach the bench, with their arrival time."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, Any]] = []
        self._arrived = asyncio.Event()

    async def follow(self, store: EventStore) -> None:
        after = await store.stream_last_position(streams.CLUSTER)
        async with store.subscribe(f"{subjects.EVENTS}.k8s.{NAMESPACE}.>", after=after) as sub:
            async for recorded in sub:
                self.add(recorded)

    def add(self, recorded: Recorded[Any]) -> None:
        self.seen.append((time.perf_counter(), recorded.event))
        self._arrived.set()

    async def first(self, since: int, wanted: Callable[[Any], bool], within: float = 60) -> float:
        """Arrival time of the first event from index ``since`` on that is ``wanted``."""
        deadline = time.perf_counter() + within
        index = since
        while time.perf_counter() < deadline:
            while index < len(self.seen):
                at, event = self.seen[index]
                index += 1
                if wanted(event):
                    return at
            self._arrived.clear()
            try:
                await asyncio.wait_for(
                    self._arrived.wait(), max(0.01, deadline - time.perf_counter())
                )
            except TimeoutError:
                break
        raise TimeoutError("no such observation")

    def live_pods(self, app: str) -> set[str]:
        alive: dict[str, bool] = {}
        for _, event in self.seen:
            if isinstance(event, PodObserved) and event.labels.get("app") == app:
                alive[event.name] = not event.terminating
            elif isinstance(event, ResourceDeleted) and event.kind == "Pod":
                alive[event.name] = False
        return {name for name, up in alive.items() if up}


@asynccontextmanager
async def _services(env: dict[str, str], logs: Path) -> AsyncIterator[None]:
    procs = []
    for name, module in SERVICES.items():
        with (logs / f"{name}.log").open("ab") as out:
            procs.append(
                processes.spawn(
                    [sys.executable, "-m", module], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            )
    try:
        yield
    finally:
        for proc in procs:
            processes.stop(proc, timeout=5)


async def _apps(store: EventStore, api: client.ApiClient, names: list[str]) -> None:
    """Each app live on blue: its Deployment, its claim, its slot released serving blue."""
    apps = client.AppsV1Api(api)
    owners = Ownership(store)
    for app in names:
        labels = {"app": app, "colour": "blue"}
        body = deployment(f"{app}-blue", f"registry.local/{app}:v1", replicas=1, labels=labels)
        await apps.create_namespaced_deployment(NAMESPACE, body)
        await owners.claim_app(TENANT, NAMESPACE, app, "bench", CAUSE)
        dep = new_id()
        await store.append(
            subjects.app(NAMESPACE, app),
            [
                AppSlotClaimed(
                    namespace=NAMESPACE,
                    app=app,
                    deployment_id=dep,
                    colour=Colour.BLUE,
                    previous_colour=None,
                ),
                AppReleased(
                    namespace=NAMESPACE,
                    app=app,
                    deployment_id=dep,
                    outcome=DeploymentStatus.SUCCEEDED,
                    serving_colour=Colour.BLUE,
                ),
            ],
            cause=CAUSE,
        )


async def _post(http: httpx.AsyncClient, path: str, **body: Any) -> float:
    """POST an action; the milliseconds to its 202 (which must say SUCCEEDED)."""
    started = time.perf_counter()
    answer = await http.post(path, json=body or None)
    elapsed = (time.perf_counter() - started) * 1000
    data = answer.json().get("data") or {}
    if answer.status_code != 202 or data.get("status") != "SUCCEEDED":
        raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:300]}")
    return elapsed


async def _measure(
    http: httpx.AsyncClient, seen: Observations, names: list[str], rounds: int
) -> dict[str, list[float]]:
    figures: dict[str, list[float]] = {
        k: [] for k in ("accepted", "scale", "pod gone", "pod replaced", "rollout")
    }
    for r in range(rounds):
        for app in names:
            replicas = 2 if r % 2 == 0 else 1
            mark, started = len(seen.seen), time.perf_counter()
            figures["accepted"].append(
                await _post(http, f"/api/v1/apps/{app}/scale", replicas=replicas)
            )
            name = f"{app}-blue"
            at = await seen.first(
                mark,
                lambda e, n=name, k=replicas: (
                    isinstance(e, DeploymentObserved) and e.name == n and e.replicas == k
                ),
            )
            figures["scale"].append((at - started) * 1000)
        await asyncio.sleep(1.0)  # let the new pods settle
        for app in names:
            before = seen.live_pods(app)
            if not before:
                continue
            victim = sorted(before)[0]
            mark, started = len(seen.seen), time.perf_counter()
            figures["accepted"].append(
                await _post(http, f"/api/v1/apps/{app}/pods/{victim}/restart")
            )
            gone = await seen.first(
                mark,
                lambda e, v=victim: (
                    (isinstance(e, PodObserved) and e.name == v and e.terminating)
                    or (isinstance(e, ResourceDeleted) and e.name == v)
                ),
            )
            new = await seen.first(
                mark,
                lambda e, a=app, old=before: (
                    isinstance(e, PodObserved) and e.labels.get("app") == a and e.name not in old
                ),
            )
            figures["pod gone"].append((gone - started) * 1000)
            figures["pod replaced"].append((new - started) * 1000)
        for app in names:
            known = {
                e.name
                for _, e in seen.seen
                if isinstance(e, PodObserved) and e.labels.get("app") == app
            }
            mark, started = len(seen.seen), time.perf_counter()
            figures["accepted"].append(await _post(http, f"/api/v1/apps/{app}/restart"))
            first_new = await seen.first(
                mark,
                lambda e, a=app, old=known: (
                    isinstance(e, PodObserved) and e.labels.get("app") == a and e.name not in old
                ),
            )
            figures["rollout"].append((first_new - started) * 1000)
        await asyncio.sleep(1.0)
    return figures


async def run(apps: int = 5, rounds: int = 4) -> None:
    with tempfile.TemporaryDirectory(prefix="fd-bench-ops-") as tmp:
        logs = Path(tmp)
        async with (
            private_nats() as server,
            Sandbox(logs / "sandbox", config=SandboxConfig(speed=10.0)) as sb,
        ):
            env = {
                **os.environ,
                "FLIGHTDECK_NATS__URL": server.url,
                "FLIGHTDECK_LOG_LEVEL": "warning",
                "FLIGHTDECK_K8S__KUBECONFIG": str(sb.kubeconfig),
                "FLIGHTDECK_K8S__NAMESPACES": NAMESPACE,
                "FLIGHTDECK_ORCHESTRATOR__CONSUMER_START": "new",
                "FLIGHTDECK_DATABASE_URL": f"sqlite+aiosqlite:///{logs / 'readmodel.db'}",
            }
            configuration = client.Configuration()
            await config.load_kube_config(str(sb.kubeconfig), client_configuration=configuration)
            api = client.ApiClient(configuration)
            await client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
            nc = await connect(server.url, "bench-ops")
            store = JetStreamEventStore(nc, Codec("/flightdeck/bench"))
            await store.ensure_streams(declare())
            await Ownership(store).record_tenant(TENANT, [NAMESPACE], CAUSE, protected=frozenset())
            names = [f"ops{i}" for i in range(apps)]
            seen = Observations()
            follower = asyncio.create_task(seen.follow(store))
            gateway = GatewayProcess(env, logs / "gateway", ops_burst="100000")
            try:
                async with _services(env, logs):
                    await gateway.ready()
                    await _apps(store, api, names)
                    await asyncio.sleep(8.0)  # services bind consumers, the watcher lists
                    headers = {"Authorization": f"Bearer {gateway.token}"}
                    async with httpx.AsyncClient(
                        base_url=gateway.url, headers=headers, timeout=60
                    ) as http:
                        with console.status(f"{apps} apps × {rounds} rounds of ops…"):
                            figures = await _measure(http, seen, names, rounds)
            finally:
                gateway.stop()
                follower.cancel()
                await asyncio.gather(follower, return_exceptions=True)
                await api.close()
                await nc.close()
    report(
        "Ops actions → Kubernetes effect on the watcher's events "
        "(sandbox at 10x, every service its own process, 2 cores), ms",
        [
            (
                f"POST → 202 with the outcome ({len(figures['accepted'])})",
                _percentiles(figures["accepted"]),
            ),
            (
                f"scale → Deployment observed at the new count ({len(figures['scale'])})",
                _percentiles(figures["scale"]),
            ),
            (
                f"pod restart → pod observed terminating ({len(figures['pod gone'])})",
                _percentiles(figures["pod gone"]),
            ),
            (
                f"pod restart → replacement pod observed ({len(figures['pod replaced'])})",
                _percentiles(figures["pod replaced"]),
            ),
            (
                f"rollout restart → first new pod observed ({len(figures['rollout'])})",
                _percentiles(figures["rollout"]),
            ),
        ],
    )
