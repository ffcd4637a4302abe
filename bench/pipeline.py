"""The deployment pipeline, end to end, with every service as its own process.

Three figures, measured against the sandbox cluster and moto:

- **pod transition → NATS subscriber**: the bench watches pods itself and
  subscribes to the pod subjects; for each transition (matched by
  resourceVersion) it takes the time from the API server's watch event reaching
  the bench to the watcher's observation reaching the bench over NATS. That is
  the latency the k8s-watcher adds (decode, diff, publish, deliver).
- **100 deployments at once on one orchestrator**: all started together, each
  through all seven stages; how many completed, and how long they took.
- **deadlines under load**: 100 deployments whose image never appears, all
  armed together; how late each Artifact deadline was recorded.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
from kubernetes_asyncio import client, config, watch

from bench.harness import console, private_nats, report
from flightdeck.events import Cause, Codec, Recorded, declare, subjects
from flightdeck.events.cluster import PodObserved
from flightdeck.events.deployments import (
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    StageFailed,
    StageStarted,
)
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.orchestrator.entrypoints.sample import start_deployment
from flightdeck.runtime import processes
from flightdeck.runtime.connection import connect
from flightdeck.runtime.ownership import Ownership
from flightdeck.sandbox import Sandbox, SandboxConfig
from tests.support.manifests import deployment

NAMESPACE = "bench"
SERVICES = {
    "k8s-watcher": "flightdeck.k8s_watcher",
    "ecr-poller": "flightdeck.ecr_poller",
    "prober": "flightdeck.prober",
    "orchestrator": "flightdeck.orchestrator",
}
TERMINAL = (DeploymentCompleted, DeploymentFailed, DeploymentCancelled)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.1f} / p99 {p99:.1f} / max {ordered[-1]:.1f}"


def _cpu_s(pid: int) -> float:
    """User and system CPU seconds a process has used so far (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@asynccontextmanager
async def _services(env: dict[str, str], logs: Path) -> AsyncIterator[dict[str, int]]:
    procs = []
    for name, module in SERVICES.items():
        with (logs / f"{name}.log").open("ab") as out:
            procs.append(
                processes.spawn(
                    [sys.executable, "-m", module], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            )
    try:
        yield {name: proc.pid for name, proc in zip(SERVICES, procs, strict=True)}
    finally:
        for proc in procs:
            processes.stop(proc, timeout=5)


async def _kube(sb: Sandbox) -> client.ApiClient:
    configuration = client.Configuration()
    await config.load_kube_config(str(sb.kubeconfig), client_configuration=configuration)
    return client.ApiClient(configuration)


async def _pod_latency(
    store: JetStreamEventStore, api: client.ApiClient, rounds: int = 4
) -> list[float]:
    """Milliseconds from a pod's watch event at the bench to its observation over NATS."""
    seen_k8s: dict[tuple[str, str], float] = {}
    seen_nats: dict[tuple[str, str], float] = {}
    decoder = msgspec.json.Decoder(PodObserved)

    async def on_nats(msg: Any) -> None:
        at = time.perf_counter()
        try:
            pod = decoder.decode(msg.data)
        except msgspec.ValidationError:
            return
        seen_nats.setdefault((pod.name, pod.resource_version), at)

    sub = await store.nc.subscribe(f"{subjects.EVENTS}.k8s.{NAMESPACE}.pod.*", cb=on_nats)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)

    async def watch_pods() -> None:
        stream = watch.Watch(return_type="object")
        async for event in stream.stream(core.list_namespaced_pod, NAMESPACE, timeout_seconds=300):
            raw = event["raw_object"]
            meta = raw.get("metadata", {})
            if "name" in meta:
                seen_k8s.setdefault((meta["name"], meta["resourceVersion"]), time.perf_counter())

    watcher = asyncio.create_task(watch_pods())
    await asyncio.sleep(0.5)
    names = [f"lat{n}" for n in range(10)]
    for name in names:
        await apps.create_namespaced_deployment(
            NAMESPACE,
            deployment(name, f"registry.local/{name}:v1", replicas=2, namespace=NAMESPACE),
        )
    for r in range(rounds):
        await asyncio.sleep(2.0)
        for name in names:
            scale = {"spec": {"replicas": 3 if r % 2 == 0 else 1}}
            await apps.patch_namespaced_deployment_scale(name, NAMESPACE, scale)
    await asyncio.sleep(3.0)
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    await sub.unsubscribe()
    return [(seen_nats[key] - at) * 1000 for key, at in seen_k8s.items() if key in seen_nats]


async def _follow(
    store: EventStore, ids: set[str], within: float
) -> dict[str, list[Recorded[Any]]]:
    """Every event of the deployments ``ids`` until all ended (or ``within`` seconds)."""
    events: dict[str, list[Recorded[Any]]] = {i: [] for i in ids}
    open_ids = set(ids)
    last = await store.stream_last_position("FD_DEPLOYMENTS")
    deadline = time.monotonic() + within
    async with store.subscribe(subjects.ALL_DEPLOYMENTS, after=last) as sub:
        while open_ids and time.monotonic() < deadline:
            try:
                r = await sub.next(timeout=1.0)
            except TimeoutError:
                continue
            key = subjects.aggregate_id(r.subject)
            if key in events:
                events[key].append(r)
                if isinstance(r.event, TERMINAL):
                    open_ids.discard(key)
    return events


async def _concurrent(store: EventStore, sb: Sandbox, n: int) -> tuple[float, dict[str, Any]]:
    apps = [f"conc{i}" for i in range(n)]
    for app in apps:  # one at a time: the sandbox's admin API is not the subject here
        await sb.push_image(app, "v1")
    started = time.perf_counter()
    follower = asyncio.create_task(_follow(store, set(apps), 300))
    await asyncio.sleep(0.2)
    await asyncio.gather(
        *(
            start_deployment(
                store,
                app=app,
                deployment_id=app,
                namespace=NAMESPACE,
                registry="registry.local",
                replicas=1,
                verify_checks=2,
                stage_timeout_s=120,
                overall_timeout_s=300,
            )
            for app in apps
        )
    )
    events = await follower
    wall = time.perf_counter() - started
    outcomes: Counter[str] = Counter()
    durations = []
    for records in events.values():
        final = records[-1].event if records else None
        if isinstance(final, DeploymentCompleted):
            outcomes["completed"] += 1
            durations.append(final.total_duration_ms / 1000)
        elif isinstance(final, DeploymentFailed):
            outcomes[f"failed {final.error_code}"] += 1
        else:
            outcomes["unfinished"] += 1
    return wall, {"outcomes": outcomes, "durations": durations}


async def _deadlines(store: EventStore, n: int, timeout_s: float = 3.0) -> list[float]:
    """Seconds between each Artifact deadline and the recorded failure."""
    ids = [f"late{i}" for i in range(n)]
    follower = asyncio.create_task(_follow(store, set(ids), 120))
    await asyncio.sleep(0.2)
    await asyncio.gather(
        *(
            start_deployment(
                store,
                app=i,
                deployment_id=i,
                tag="never",
                namespace=NAMESPACE,
                registry="registry.local",
                stage_timeout_s=timeout_s,
            )
            for i in ids
        )
    )
    lateness = []
    for records in (await follower).values():
        started = next((r.event for r in records if isinstance(r.event, StageStarted)), None)
        failed = next((r for r in records if isinstance(r.event, StageFailed)), None)
        if started is not None and failed is not None:
            lateness.append((failed.time - started.deadline).total_seconds() * 1000)
    return lateness


BASELINE = "FLIGHTDECK_BENCH_BASELINE"
"""A checkout of earlier code (e.g. ``git archive <commit> | tar -x -C DIR``): when set, the
pipeline is measured on it and on this checkout, one after the other in this run, and the
ratio printed (ADR 0019). Its services run with this environment's libraries."""
ROUNDS = "FLIGHTDECK_BENCH_ROUNDS"
"""With a baseline: how many pairs to measure, in alternating order (default 1)."""


def _sources(checkout: Path) -> str:
    """``PYTHONPATH`` putting ``checkout``'s packages before the installed (editable) ones."""
    roots = sorted(checkout.glob("libs/*/src")) + sorted(checkout.glob("services/*/src"))
    if not roots:
        raise SystemExit(f"{BASELINE}={checkout}: no libs/*/src or services/*/src there")
    return os.pathsep.join(str(r) for r in roots)


async def run(deployments: int = 100) -> None:
    baseline = os.environ.get(BASELINE)
    if not baseline:
        _report("", await _measure(deployments), deployments)
        return
    rounds = int(os.environ.get(ROUNDS, "1"))
    before: list[dict[str, Any]] = []
    after: list[dict[str, Any]] = []
    for n in range(rounds):  # baseline, this; then this, baseline; …: drift hits both
        order = [(before, _sources(Path(baseline))), (after, None)]
        for figures, pythonpath in order if n % 2 == 0 else order[::-1]:
            figures.append(await _measure(deployments, pythonpath))
    for n, (b, a) in enumerate(zip(before, after, strict=True), 1):
        _report(f" — baseline {baseline}, round {n}", b, deployments)
        _report(f" — this checkout, round {n}", a, deployments)
    rows = []
    for n, (b, a) in enumerate(zip(before, after, strict=True), 1):
        rows += [
            (
                f"round {n}: {deployments} at once, all finished after: this / baseline",
                f"{a['wall']:.1f} s / {b['wall']:.1f} s = {a['wall'] / b['wall']:.2f}",
            ),
            (
                f"round {n}: each deployment's median duration: this / baseline",
                _ratio(a["durations"], b["durations"]),
            ),
            (
                f"round {n}: pod transition → NATS median (no consumer on its path)",
                _ratio(a["latency"], b["latency"]),
            ),
        ]
    walls_a = sum(a["wall"] for a in after)
    walls_b = sum(b["wall"] for b in before)
    rows.append(("all rounds: finished after, this / baseline", f"{walls_a / walls_b:.2f}"))
    report("Deployment pipeline: this checkout against the baseline, in one run", rows)


def _ratio(after: list[float], before: list[float]) -> str:
    if not after or not before:
        return "-"
    a, b = statistics.median(after), statistics.median(before)
    return f"{a:.2f} / {b:.2f} = {a / b:.2f}"


async def _measure(deployments: int, pythonpath: str | None = None) -> dict[str, Any]:
    """Every figure, with the services' code from ``pythonpath`` (default: this checkout)."""
    with tempfile.TemporaryDirectory(prefix="fd-bench-pipeline-") as tmp:
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
                "FLIGHTDECK_AWS__ENDPOINT_URL": sb.aws_endpoint,
                "FLIGHTDECK_AWS__REGION": sb.aws_region,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "FLIGHTDECK_ECR_POLLER__INTERVAL_S": "1",
                "FLIGHTDECK_PROBER__INTERVAL_SCALE": "0.2",
                "FLIGHTDECK_ORCHESTRATOR__SWITCH_DELAY_S": "1",
                "FLIGHTDECK_ORCHESTRATOR__CONSUMER_START": "new",
            }
            if pythonpath:
                env["PYTHONPATH"] = pythonpath
            api = await _kube(sb)
            await client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
            nc = await connect(server.url, "bench-pipeline")
            store = JetStreamEventStore(nc, Codec("/flightdeck/bench"))
            await store.ensure_streams(declare())
            await Ownership(store).record_tenant(  # start_deployment's tenant (ADR 0012)
                "demo", [NAMESPACE], Cause.root("service:bench"), protected=frozenset()
            )
            async with _services(env, logs) as pids:
                await asyncio.sleep(8.0)  # processes import, bind consumers, take the lease
                started_cpu = {name: _cpu_s(pid) for name, pid in pids.items()}
                with console.status("pod transitions → NATS…"):
                    latency = await _pod_latency(store, api)
                with console.status(f"{deployments} deployments at once…"):
                    wall, result = await _concurrent(store, sb, deployments)
                with console.status(f"{deployments} deadlines at once…"):
                    lateness = await _deadlines(store, deployments)
                cpu = {n: _cpu_s(pid) - started_cpu[n] for n, pid in pids.items()}
            await api.close()
            await nc.close()
    return {"latency": latency, "wall": wall, "lateness": lateness, "cpu": cpu, **result}


def _report(title: str, figures: dict[str, Any], deployments: int) -> None:
    latency, wall, outcomes = figures["latency"], figures["wall"], figures["outcomes"]
    lateness = figures["lateness"]
    report(
        f"Deployment pipeline (sandbox at 10x, every service its own process, 2 cores){title}",
        [
            (
                f"pod transition → NATS subscriber, ms ({len(latency)} transitions)",
                _percentiles(latency),
            ),
            (
                f"{deployments} deployments at once: outcomes",
                ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())),
            ),
            (f"{deployments} deployments at once: all finished after", f"{wall:.1f} s"),
            ("  each deployment's duration, s", _percentiles(figures["durations"])),
            (
                f"{deployments} artifact deadlines armed together: lateness, ms",
                _percentiles(lateness),
            ),
            (
                "deadlines missed (recorded > 1 s late)",
                f"{sum(1 for x in lateness if x > 1000)} of {len(lateness)}",
            ),
            (
                "CPU s per service while measured",
                ", ".join(f"{n} {c:.1f}" for n, c in figures["cpu"].items()),
            ),
        ],
    )
