"""Pod logs through the log-relay into NATS, and on through the gateway to a WebSocket.

Sandbox pods log at a set rate; the real k8s-watcher, one log-relay and the
gateway run as their own processes; the bench subscribes to ``fd.evt.log.>``
and, for every line, takes the time from the pod writing it (the kubelet
timestamp) to NATS delivering its batch here. In the same window ONE WebSocket
client (its own process, ``python -m bench.logs wsclient``) follows the level's
app through the gateway with a keyword filter and takes the same time to its
own receipt of each line. Each load level runs in its own namespace, warms up,
then measures a fixed window: lines/s relayed and delivered against the rate
the pods were asked to write, latency percentiles, and how much CPU the relay,
the gateway and the sandbox used (on 2 cores they all compete for the same CPU).

``logs`` runs the relay in API mode (pods/log; the sandbox writes no node files);
``logs-node`` in node mode (ADR 0025): the sandbox writes every line to its CRI
files too, and the relay tails those instead (the gateway-alone half is skipped:
it does not depend on the mode).
"""

from __future__ import annotations

import asyncio
import json
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

from bench.harness import GatewayProcess, console, private_nats, report
from flightdeck.events import Cause, Codec, declare, subjects
from flightdeck.events.commands import StartDeployment, deployment_requested
from flightdeck.events.logs import LogFollowLost, LogLinesCaptured
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime import processes
from flightdeck.runtime.connection import connect
from flightdeck.sandbox import Sandbox, SandboxConfig
from tests.support.manifests import deployment

# (pods, lines per second per pod): the load asked for is pods times rate.
LEVELS = ((4, 500), (10, 2000), (20, 3000))
# The gateway alone: lines/s published straight into NATS (500-line batches, as the relay sends).
DIRECT_RATES = (50_000, 100_000, 200_000)
WARMUP_S = 3.0
WINDOW_S = 8.0
KEYWORD = "seq"
"""The WebSocket client's filter: every chatter line has it, so each line is checked and kept."""
TARGET_LINES_S = 50_000
TARGET_P99_MS = 200.0
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
    gateway_cpu: float = 0.0
    window_s: float = WINDOW_S
    ws: dict[str, Any] | None = None

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


class Gateway(GatewayProcess):
    """The gateway, able to make an app visible to its dev key."""

    async def owns(self, store: EventStore, app: str, namespace: str) -> None:
        """Deploy ``app`` for the dev tenant (its claim as the gateway makes it, then its request
        as the orchestrator records it), and wait until the gateway shows it."""
        import httpx

        from flightdeck.runtime.ownership import Ownership

        request = deployment_requested(
            StartDeployment(
                deployment_id=f"bench-{namespace}",
                tenant="dev",
                app=app,
                namespace=namespace,
                repository=app,
                tag="v1",
            )
        )
        subject = subjects.deployment(request.deployment_id)
        cause = Cause.root("service:bench")
        await Ownership(store).claim_app("dev", namespace, app, request.deployment_id, cause)
        await store.append(subject, [request], cause=cause, expected=0)
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10) as http:
            params = {"namespace": namespace, "limit": 1}
            while (await http.get(f"/api/v1/logs/{app}", params=params)).status_code != 200:  # noqa: ASYNC110 - polls over HTTP
                await asyncio.sleep(0.1)


class WsClient:
    """Drives one ``python -m bench.logs wsclient`` process: ready, record, stop."""

    def __init__(self, gateway: Gateway, app: str, namespace: str) -> None:
        url = gateway.url.replace("http://", "ws://") + "/api/v1/ws"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.logs", "wsclient", url, gateway.token, app, namespace],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        line = await asyncio.to_thread(self.proc.stdout.readline)
        if not line:
            raise RuntimeError("the WebSocket client exited")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def _measure(
    level: Level,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    tally: Tally,
    relay_pid: int,
    sandbox_pid: int | None,
    gateway: Gateway,
    store: EventStore,
) -> None:
    name = f"talk{level.pods}"
    await gateway.owns(store, name, level.namespace)
    ws = WsClient(gateway, name, level.namespace)
    try:
        await ws.ask("")  # subscribed
        await _window(level, core, apps, tally, (relay_pid, sandbox_pid, gateway.proc.pid), ws)
    finally:
        ws.stop()


async def _window(
    level: Level,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    tally: Tally,
    pids: tuple[int, int | None, int],
    ws: WsClient,
) -> None:
    name = f"talk{level.pods}"
    await apps.create_namespaced_deployment(
        level.namespace,
        deployment(name, f"registry.local/{name}:v1", replicas=level.pods, log_rate=level.rate),
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
    cpu = [_cpu_seconds(pid) for pid in pids]
    await ws.ask("record")
    tally.level = level
    started = time.monotonic()
    await asyncio.sleep(WINDOW_S)
    tally.level = None
    level.ws = await ws.ask("stop")
    direct.cancel()
    await asyncio.gather(direct, return_exceptions=True)
    level.window_s = time.monotonic() - started
    used = [
        (_cpu_seconds(pid) - before) / level.window_s for pid, before in zip(pids, cpu, strict=True)
    ]
    level.relay_cpu, level.sandbox_cpu, level.gateway_cpu = used
    await apps.delete_namespaced_deployment(name, level.namespace)


async def run(mode: str = "api") -> None:
    levels = [Level(pods, rate) for pods, rate in LEVELS]
    node = mode == "node"
    with tempfile.TemporaryDirectory(prefix="fd-bench-logs-") as tmp:
        logs = Path(tmp)
        async with (
            private_nats() as server,
            Sandbox(logs / "sandbox", config=SandboxConfig(speed=10.0, node_logs=node)) as sb,
        ):
            configuration = client.Configuration()
            await config.load_kube_config(str(sb.kubeconfig), client_configuration=configuration)
            api = client.ApiClient(configuration)
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            for level in levels:
                await core.create_namespace({"metadata": {"name": level.namespace}})
            nc = await connect(server.url, "bench-logs")
            await JetStreamEventStore(nc, Codec("/flightdeck/bench")).ensure_streams(declare())
            store = JetStreamEventStore(nc, Codec("/flightdeck/bench"))
            tally = Tally()
            sub = await nc.subscribe("fd.evt.log.>", cb=tally.on_message)
            env = {
                **os.environ,
                "FLIGHTDECK_NATS__URL": server.url,
                "FLIGHTDECK_LOG_LEVEL": "warning",
                "FLIGHTDECK_K8S__KUBECONFIG": str(sb.kubeconfig),
                "FLIGHTDECK_K8S__NAMESPACES": ",".join(level.namespace for level in levels),
                "FLIGHTDECK_K8S_WATCHER__KINDS": "Pod",
                "FLIGHTDECK_LOG_RELAY__MODE": mode,
                "FLIGHTDECK_LOG_RELAY__NODE_LOG_DIR": str(sb.node_log_dir or ""),
            }
            gateway = Gateway(env, logs / "gateway", client_buffer="10000")
            try:
                async with _processes(env, logs) as relay:
                    await gateway.ready()
                    await asyncio.sleep(8.0)  # the processes import, connect, read their snapshot
                    for level in levels:
                        with console.status(f"{level.pods} pods × {level.rate:.0f} lines/s…"):
                            await _measure(
                                level, core, apps, tally, relay.pid, sb.pid, gateway, store
                            )
                direct = []
                for rate in () if node else DIRECT_RATES:
                    with console.status(f"gateway alone, {rate:,} lines/s…"):
                        direct.append(await _gateway_alone(rate, gateway, store))
            finally:
                gateway.stop()
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
            *_ws_rows(level),
            (
                "  CPU: log-relay / gateway / sandbox (cores)",
                f"{level.relay_cpu:.2f} / {level.gateway_cpu:.2f} / {level.sandbox_cpu:.2f}",
            ),
        ]
    source = "the runtime's log files (node mode)" if node else "pods/log (API mode)"
    report(
        f"Pod logs → log-relay reading {source} → NATS → gateway → 1 WebSocket client "
        "(sandbox pods, one relay, one gateway, 2 cores)",
        rows,
    )
    if node:
        return
    report(
        "The WebSocket half alone: batches published into NATS → gateway → 1 WebSocket client "
        f"(keyword {KEYWORD!r}); latency from the line's time (just before publishing)",
        [row for rate, ws, cpu in direct for row in _direct_rows(rate, ws, cpu)],
    )


def _direct_rows(rate: int, ws: dict[str, Any], cpu: float) -> list[tuple[str, str]]:
    got = ws.get("lines", 0) / WINDOW_S
    lat = ws["latency_ms"]
    return [
        (
            f"published {rate:,} lines/s: delivered lines/s",
            f"{got:,.0f} ({got / rate:.0%}; target {TARGET_LINES_S:,} "
            f"→ ratio {got / TARGET_LINES_S:.2f})",
        ),
        (
            "  publish → WebSocket client, ms",
            f"p50 {lat['p50']:.0f} / p99 {lat['p99']:.0f} / max {lat['max']:.0f} "
            f"(p99 target {TARGET_P99_MS:.0f} → ratio {TARGET_P99_MS / max(lat['p99'], 1e-9):.2f})",
        ),
        ("  CPU: gateway / WebSocket client (cores)", f"{cpu:.2f} / {ws['cpu']:.2f}"),
    ]


async def _gateway_alone(
    rate: int, gateway: Gateway, store: EventStore
) -> tuple[int, dict[str, Any], float]:
    """``rate`` lines/s of sandbox-like chatter in 500-line batches, paced every 10 ms."""
    from flightdeck.events.logs import LogLevel, LogLine, LogSource
    from flightdeck.sandbox.chatter import LineMaker

    namespace, app, batch = f"bench-gw-{rate}", "direct", 500
    await gateway.owns(store, app, namespace)
    maker = LineMaker(namespace, app)
    texts = [maker.next(datetime.now(UTC))[1] for _ in range(batch * 8)]
    cause = Cause.root("service:bench")
    subject = subjects.pod_logs(namespace, app, f"{app}-0")

    def event(n: int) -> LogLinesCaptured:
        now = datetime.now(UTC)
        first = (n % 8) * batch
        lines = [
            LogLine(
                time=now,
                source=LogSource.STDOUT,
                source_inferred=True,
                level=LogLevel.INFO,
                text=text,
            )
            for text in texts[first : first + batch]
        ]
        return LogLinesCaptured(
            namespace=namespace, pod=f"{app}-0", container="app", node="n1", app=app, lines=lines
        )

    async def publish(seconds: float) -> None:
        sent, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(int(elapsed * rate / batch) - sent):
                await store.append(subject, [event(sent)], cause=cause)
                sent += 1
            await asyncio.sleep(0.01)

    ws = WsClient(gateway, app, namespace)
    try:
        await ws.ask("")
        await publish(WARMUP_S)
        cpu = _cpu_seconds(gateway.proc.pid)
        await ws.ask("record")
        started = time.monotonic()
        await publish(WINDOW_S)
        await asyncio.sleep(0.5)  # the last batches arrive
        result = await ws.ask("stop")
        used = (_cpu_seconds(gateway.proc.pid) - cpu) / (time.monotonic() - started)
    finally:
        ws.stop()
    return rate, result, used


def _ws_rows(level: Level) -> list[tuple[str, str]]:
    ws = level.ws or {}
    if not ws.get("lines"):
        return [("  → gateway → WebSocket client", "no lines received")]
    rate = ws["lines"] / ws["seconds"]
    relayed = level.lines / level.window_s
    lat = ws["latency_ms"]
    return [
        (
            f"  → gateway → 1 WebSocket client, keyword {KEYWORD!r}: lines/s",
            f"{rate:,.0f} ({rate / relayed:.0%} of relayed; target {TARGET_LINES_S:,} "
            f"→ ratio {rate / TARGET_LINES_S:.2f})",
        ),
        (
            "  pod write → WebSocket client, ms",
            f"p50 {lat['p50']:.0f} / p99 {lat['p99']:.0f} / max {lat['max']:.0f} "
            f"(p99 target {TARGET_P99_MS:.0f} → ratio {TARGET_P99_MS / max(lat['p99'], 1e-9):.2f})",
        ),
        (
            "  WebSocket messages / lines per message / client CPU (cores)",
            f"{ws['messages']:,} / {ws['lines'] / max(ws['messages'], 1):.0f} / {ws['cpu']:.2f}",
        ),
    ]


# ----------------------------------------------------------------- the WebSocket client process


class _Line(msgspec.Struct):
    time: datetime


class _Lines(msgspec.Struct):
    lines: list[_Line] = []


class _WsMessage(msgspec.Struct):
    type: str
    event: str | None = None
    data: _Lines | None = None


async def wsclient_main(url: str, token: str, app: str, namespace: str) -> None:
    """Subscribe to ``app``'s logs with the keyword filter, live only; then, on stdin,
    ``record`` starts counting and ``stop`` prints what arrived (JSON, one line)."""
    import websockets

    decode = msgspec.json.Decoder(_WsMessage).decode
    recording = False
    latencies: list[float] = []
    counts = {"lines": 0, "messages": 0}
    subscribed = asyncio.get_running_loop().create_future()
    async with websockets.connect(
        url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
    ) as ws:
        subscribe = {
            "type": "subscribe-to-logs",
            "app": app,
            "namespace": namespace,
            "tail": 0,
            "filter": {"keywords": [KEYWORD]},
        }
        await ws.send(json.dumps(subscribe))

        async def read() -> None:
            async for raw in ws:
                now = time.time()
                message = decode(raw)
                if message.type == "subscribed" and not subscribed.done():
                    subscribed.set_result(None)
                if not recording or message.event != "log" or message.data is None:
                    continue
                lines = message.data.lines
                counts["messages"] += 1
                counts["lines"] += len(lines)
                latencies.extend((now - line.time.timestamp()) * 1000 for line in lines)

        reader = asyncio.create_task(read())
        await subscribed
        print(json.dumps({"subscribed": True}), flush=True)
        started = (0.0, 0.0)
        while command := (await asyncio.to_thread(sys.stdin.readline)).strip():
            if command == "record":
                latencies.clear()
                counts.update(lines=0, messages=0)
                recording = True
                started = (time.process_time(), time.perf_counter())
                print(json.dumps({"recording": True}), flush=True)
            elif command == "stop":
                recording = False
                seconds = time.perf_counter() - started[1]
                ordered = sorted(latencies) or [float("nan")]
                summary = {
                    **counts,
                    "seconds": seconds,
                    "cpu": (time.process_time() - started[0]) / seconds,
                    "latency_ms": {
                        "p50": ordered[len(ordered) // 2],
                        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
                        "max": ordered[-1],
                    },
                }
                print(json.dumps(summary), flush=True)
        reader.cancel()


if __name__ == "__main__" and sys.argv[1:2] == ["wsclient"]:
    from flightdeck.runtime import eventloop

    eventloop.run(wsclient_main(*sys.argv[2:6]))
