"""Pod logs through the log-relay into NATS: lines/s, and the delay from pod to NATS.

Sandbox pods log at a set rate; the real k8s-watcher and one log-relay run as
their own processes; the bench subscribes to ``fd.evt.log.>`` and, for every
line, takes the time from the pod writing it (the kubelet timestamp) to NATS
delivering its batch here. Each load level runs in its own namespace, warms up,
then measures a fixed window: relayed lines/s against the rate the pods were
asked to write, latency percentiles, and how much CPU the relay and the sandbox
used (on 2 cores the sandbox, writing and serving the lines, competes with the
relay for the same CPU).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from kubernetes_asyncio import client, config

from bench.harness import console, private_nats, report
from flightdeck.events import Codec, EventStore, declare
from flightdeck.events.logs import LogFollowLost, LogLinesCaptured
from flightdeck.runtime import processes
from flightdeck.runtime.connection import connect
from flightdeck.sandbox import Sandbox, SandboxConfig

# (pods, lines per second per pod): the load asked for is pods times rate.
LEVELS = ((4, 500), (10, 2000), (20, 3000))
WARMUP_S = 3.0
WINDOW_S = 8.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Level:
    pods: int
    rate: float
    lines: int = 0
    events: int = 0
    lost: int = 0
    latencies_ms: list[float] | None = None
    direct_ms: list[float] | None = None
    relay_cpu: float = 0.0
    sandbox_cpu: float = 0.0
    window_s: float = WINDOW_S

    @property
    def namespace(self) -> str:
        return f"bench-logs-{self.pods}x{int(self.rate)}"

    @property
    def offered(self) -> float:
        return self.pods * self.rate


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process so far (Linux ``/proc``), 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.0f} / p99 {p99:.0f} / max {ordered[-1]:.0f}"


def _deployment(name: str, pods: int, rate: float) -> dict[str, Any]:
    labels = {"app": name}
    container = {
        "name": "app",
        "image": f"registry.local/{name}:v1",
        "env": [{"name": "SANDBOX_LOG_RATE", "value": str(rate)}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": pods,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }


class Tally:
    """Counts what arrives on ``fd.evt.log.>`` (only while ``level`` is set)."""

    def __init__(self) -> None:
        self.level: Level | None = None
        self.pods: set[str] = set()
        self._decode = msgspec.json.Decoder(LogLinesCaptured | LogFollowLost).decode

    async def on_message(self, msg: Any) -> None:
        now = datetime.now(UTC)
        event = self._decode(msg.data)
        if isinstance(event, LogFollowLost):
            if self.level is not None:
                self.level.lost += 1
            return
        self.pods.add(event.pod)
        level = self.level
        if level is None or level.latencies_ms is None:
            return
        level.events += 1
        level.lines += len(event.lines)
        level.latencies_ms.extend((now - line.time).total_seconds() * 1000 for line in event.lines)


@asynccontextmanager
async def _processes(env: dict[str, str], logs: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """The k8s-watcher and the log-relay; yields the relay."""
    procs = []
    for name, module in (
        ("k8s-watcher", "flightdeck.k8s_watcher"),
        ("log-relay", "flightdeck.log_relay"),
    ):
        with (logs / f"{name}.log").open("ab") as out:
            procs.append(
                processes.spawn(
                    [sys.executable, "-m", module], env=env, stdout=out, stderr=subprocess.STDOUT
                )
            )
    try:
        yield procs[-1]
    finally:
        for proc in procs:
            processes.stop(proc, timeout=10)


async def _direct(core: client.CoreV1Api, namespace: str, pod: str, out: list[float]) -> None:
    """The baseline: one pod's log read straight from the sandbox, as the relay reads it."""
    response: Any = await core.read_namespaced_pod_log(
        pod, namespace, follow=True, timestamps=True, tail_lines=0, _preload_content=False
    )
    try:
        async for chunk in response.content.iter_any():
            now = datetime.now(UTC)
            for line in chunk.split(b"\n"):
                if line:
                    at = datetime.fromisoformat(line[: line.index(b" ")].decode())
                    out.append((now - at).total_seconds() * 1000)
    finally:
        response.release()


async def _measure(
    level: Level,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    tally: Tally,
    relay_pid: int,
    sandbox_pid: int | None,
) -> None:
    name = f"talk{level.pods}"
    await apps.create_namespaced_deployment(
        level.namespace, _deployment(name, level.pods, level.rate)
    )
    deadline = time.monotonic() + 60
    while sum(1 for p in tally.pods if p.startswith(name + "-")) < level.pods:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the relay did not follow the {level.pods} pods of {name}")
        await asyncio.sleep(0.2)
    await asyncio.sleep(WARMUP_S)
    level.latencies_ms, level.direct_ms = [], []
    first = sorted(p for p in tally.pods if p.startswith(name + "-"))[0]
    direct = asyncio.create_task(_direct(core, level.namespace, first, level.direct_ms))
    cpu = (_cpu_seconds(relay_pid), _cpu_seconds(sandbox_pid))
    tally.level = level
    started = time.monotonic()
    await asyncio.sleep(WINDOW_S)
    tally.level = None
    direct.cancel()
    await asyncio.gather(direct, return_exceptions=True)
    level.window_s = time.monotonic() - started
    level.relay_cpu = (_cpu_seconds(relay_pid) - cpu[0]) / level.window_s
    level.sandbox_cpu = (_cpu_seconds(sandbox_pid) - cpu[1]) / level.window_s
    await apps.delete_namespaced_deployment(name, level.namespace)


async def run() -> None:
    levels = [Level(pods, rate) for pods, rate in LEVELS]
    with tempfile.TemporaryDirectory(prefix="fd-bench-logs-") as tmp:
        logs = Path(tmp)
        async with (
            private_nats() as server,
            Sandbox(logs / "sandbox", config=SandboxConfig(speed=10.0)) as sb,
        ):
            configuration = client.Configuration()
            await config.load_kube_config(str(sb.kubeconfig), client_configuration=configuration)
            api = client.ApiClient(configuration)
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            for level in levels:
                await core.create_namespace({"metadata": {"name": level.namespace}})
            nc = await connect(server.url, "bench-logs")
            await EventStore(nc, Codec("/flightdeck/bench")).ensure_streams(declare())
            tally = Tally()
            sub = await nc.subscribe("fd.evt.log.>", cb=tally.on_message)
            env = {
                **os.environ,
                "FLIGHTDECK_NATS_URL": server.url,
                "FLIGHTDECK_LOG_LEVEL": "warning",
                "FLIGHTDECK_K8S__KUBECONFIG": str(sb.kubeconfig),
                "FLIGHTDECK_K8S__NAMESPACES": ",".join(level.namespace for level in levels),
                "FLIGHTDECK_K8S_WATCHER__KINDS": "Pod",
            }
            async with _processes(env, logs) as relay:
                await asyncio.sleep(8.0)  # both processes import, connect and read their snapshot
                for level in levels:
                    with console.status(f"{level.pods} pods × {level.rate:.0f} lines/s…"):
                        await _measure(level, core, apps, tally, relay.pid, sb.pid)
            await sub.unsubscribe()
            await nc.close()
            await api.close()
    rows: list[tuple[str, str]] = []
    for level in levels:
        latencies = level.latencies_ms or []
        rows += [
            (
                f"{level.pods} pods × {level.rate:.0f} lines/s: relayed lines/s (asked {level.offered:,.0f})",
                f"{level.lines / level.window_s:,.0f} ({level.lines / level.window_s / level.offered:.0%})",
            ),
            ("  pod write → NATS subscriber, ms", _percentiles(latencies)),
            (
                "  pod write → direct pods/log reader (baseline), ms",
                _percentiles(level.direct_ms or []),
            ),
            (
                "  lines per event / follow-lost events",
                f"{level.lines / max(level.events, 1):.0f} / {level.lost}",
            ),
            (
                "  CPU: log-relay / sandbox (cores)",
                f"{level.relay_cpu:.2f} / {level.sandbox_cpu:.2f}",
            ),
        ]
    report("Pod logs → log-relay → NATS (sandbox pods, one relay process, 2 cores)", rows)
