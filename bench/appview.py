"""The live app view: 50 pods x a CPU/memory sample every 5 s → gateway (its own process)
→ 1,000 SSE clients of the app's stream (another process).

Measures sample→client latency (p50/p99, from each event's ``timestamp``, the publish
time), deliveries/s and the gateway's CPU for (a) one watcher publishing every pod's
sample each interval, and (b) the same with every sample published twice (a second
leader, a restart): each client must still get one per pod per interval (ADR 0023), so
(b) delivers what (a) does. Figures only, never pass/fail.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.harness import console, private_nats, report
from bench.sse import _Gateway, _summary
from flightdeck.events import Cause, Codec, declare, new_id, subjects
from flightdeck.events.cluster import (
    ContainerPhase,
    ContainerState,
    ContainerUsage,
    PodMetricsSampled,
    PodObserved,
)
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime.connection import connect
from flightdeck.runtime.ownership import Ownership

CAUSE = Cause.root("service:bench")
CLIENTS = 1_000
PODS = 50
INTERVAL_S = 5.0
ROUNDS = 4
NS = "default"
_STAMP = re.compile(rb'event: metrics\ndata: \{[^\n]*"timestamp":"([^"]+)"')


# ----------------------------------------------------------------- load generator


class _Client(asyncio.Protocol):
    def __init__(self, gen: _LoadGen) -> None:
        self.gen = gen
        self.headers_done = False
        self.tail = b""

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.tail + data
        if not self.headers_done:
            head, sep, buf = buf.partition(b"\r\n\r\n")
            if not sep:
                self.tail = head
                return
            self.headers_done = True
            self.gen.connected += 1
        cut = buf.rfind(b"\n\n")
        if cut < 0:
            self.tail = buf
            return
        body, self.tail = buf[: cut + 2], buf[cut + 2 :]
        if self.gen.recording:
            for stamp in _STAMP.findall(body):
                self.gen.deliveries += 1
                self.gen.latencies.append(now - datetime.fromisoformat(stamp.decode()).timestamp())


class _LoadGen:
    def __init__(self) -> None:
        self.connected = 0
        self.deliveries = 0
        self.latencies: list[float] = []
        self.recording = False
        self.transports: list[asyncio.Transport] = []

    async def open(self, host: str, port: int, path: str, count: int, token: str) -> None:
        loop = asyncio.get_running_loop()
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
        for i in range(0, count, 50):
            opened = await asyncio.gather(
                *(
                    loop.create_connection(lambda: _Client(self), host, port)
                    for _ in range(min(50, count - i))
                )
            )
            for transport, _ in opened:
                transport.write(request.encode())
                self.transports.append(transport)
            while self.connected < len(self.transports):  # noqa: ASYNC110
                await asyncio.sleep(0.02)

    def close(self) -> None:
        for transport in self.transports:
            transport.close()
        self.transports.clear()
        self.connected = 0


async def loadgen_main() -> None:
    """Commands on stdin, one JSON per line; answers on stdout."""
    gen = _LoadGen()
    started = (0.0, 0.0)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        cmd = json.loads(line)
        out: dict[str, Any]
        if cmd["op"] == "open":
            await gen.open(cmd["host"], cmd["port"], cmd["path"], cmd["count"], cmd["token"])
            out = {"connected": gen.connected}
        elif cmd["op"] == "record":
            gen.latencies, gen.deliveries, gen.recording = [], 0, True
            started = time.process_time(), time.perf_counter()
            out = {"ok": True}
        elif cmd["op"] == "stop":
            gen.recording = False
            busy = (time.process_time() - started[0]) / (time.perf_counter() - started[1])
            out = {
                "deliveries": gen.deliveries,
                "latencies": _summary(gen.latencies),
                "loadgen_cpu": busy * 100,
            }
        else:
            gen.close()
            out = {"closed": True}
        print(json.dumps(out), flush=True)


class _Loader:
    def __init__(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.appview", "loadgen"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    async def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        answer: dict[str, Any] = json.loads(await asyncio.to_thread(self.proc.stdout.readline))
        return answer

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(15)


# ----------------------------------------------------------------- driver


def _pod(app: str, name: str) -> PodObserved:
    container = ContainerState(
        name="app", image=f"{app}:v1", phase=ContainerPhase.RUNNING, ready=True, restart_count=0
    )
    return PodObserved(
        namespace=NS,
        name=name,
        uid=new_id(),
        labels={"app": app, "colour": "blue"},
        owner=f"{app}-blue-rs",
        phase="Running",
        ready=True,
        node="node-1",
        pod_ip=None,
        host_ip=None,
        containers=[container],
        resource_version="1",
    )


def _sample(pod: str) -> PodMetricsSampled:
    usage = [ContainerUsage(name="app", cpu_millicores=12.5, memory_bytes=64 << 20)]
    return PodMetricsSampled(
        namespace=NS, pod=pod, window_s=INTERVAL_S, containers=usage, interval_s=INTERVAL_S
    )


async def _app(store: EventStore) -> tuple[str, list[str]]:
    app = f"bench-{new_id()[:8]}"
    await Ownership(store).claim_app("dev", NS, app, new_id(), CAUSE)
    pods = [f"{app}-blue-rs-{i:03d}" for i in range(PODS)]
    for name in pods:
        await store.append(subjects.cluster_object(NS, "Pod", name), [_pod(app, name)], cause=CAUSE)
    return app, pods


async def _round(store: EventStore, pods: list[str], copies: int) -> None:
    """One poll: every pod's sample, published at once (``copies`` times each)."""
    await asyncio.gather(
        *(
            store.append(subjects.cluster_object(NS, "PodMetrics", p), [_sample(p)], cause=CAUSE)
            for p in pods
            for _ in range(copies)
        )
    )


async def _scenario(
    gw: _Gateway, loader: _Loader, store: EventStore, copies: int
) -> dict[str, Any]:
    app, pods = await _app(store)
    opened = time.perf_counter()
    path = f"/api/v1/apps/{app}/events?namespace={NS}"
    await loader.ask(
        op="open", host="127.0.0.1", port=gw.port, path=path, count=CLIENTS, token=gw.token
    )
    console.print(f"  {CLIENTS} clients connected in {time.perf_counter() - opened:.1f} s")
    await asyncio.sleep(1.0)
    await loader.ask(op="record")
    cpu0, wall0 = gw.cpu_seconds(), time.perf_counter()
    for n in range(ROUNDS):
        await _round(store, pods, copies)
        if n < ROUNDS - 1:
            await asyncio.sleep(INTERVAL_S)
    await asyncio.sleep(3.0)  # let the last round land
    result = await loader.ask(op="stop")
    wall = time.perf_counter() - wall0
    result["cpu"] = (gw.cpu_seconds() - cpu0) / wall * 100
    result["rate"] = result["deliveries"] / (ROUNDS * INTERVAL_S)  # per polling period
    result["expected"] = ROUNDS * PODS * CLIENTS
    await loader.ask(op="close")
    await asyncio.sleep(1.0)
    return result


def _row(name: str, r: dict[str, Any]) -> tuple[str, str]:
    lat = r["latencies"]
    line = (
        f"p50 {lat['p50']:.1f} ms  p99 {lat['p99']:.1f} ms  {r['rate']:,.0f} deliveries/s  "
        f"({r['deliveries']:,} of {r['expected']:,} expected)  gateway CPU {r['cpu']:.0f}%"
    )
    console.print(f"  {name}: {line}, load generator CPU {r['loadgen_cpu']:.0f}%")
    return name, line


async def run() -> None:
    console.print(
        f"[bold]App stream[/]: {PODS} pods × a sample every {INTERVAL_S:.0f} s "
        f"to {CLIENTS:,} clients"
    )
    with tempfile.TemporaryDirectory(prefix="fd-bench-app-") as tmp:
        async with private_nats() as server:
            nc = await connect(server.url, "bench-app")
            store = JetStreamEventStore(nc, Codec("/flightdeck/bench"))
            await store.ensure_streams(declare())
            gw = _Gateway(server.url, Path(tmp))
            loader = _Loader()
            rows: list[tuple[str, str]] = []
            try:
                await gw.ready()
                once = await _scenario(gw, loader, store, copies=1)
                rows.append(_row("(a) one sample per pod per 5 s", once))
                twice = await _scenario(gw, loader, store, copies=2)
                rows.append(_row("(b) every sample published twice (coalesced)", twice))
            finally:
                loader.stop()
                gw.stop()
                await nc.close()
    report(
        f"App stream ({PODS} pods × metrics every {INTERVAL_S:.0f} s → {CLIENTS:,} clients)", rows
    )


if __name__ == "__main__" and sys.argv[1:] == ["loadgen"]:
    from flightdeck.runtime import eventloop

    eventloop.run(loadgen_main())
