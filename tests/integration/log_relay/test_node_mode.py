"""The relay in node mode: the runtime's CRI log files on disk, real NATS, real relay processes.

The test plays the kubelet and containerd on a directory (records, fragments of a
long line, rotation by rename and a new file, a second run after a restart) and
publishes the pod as the k8s-watcher would; the relay must publish every line
exactly once, in order, with its true stream, through rotations mid-line and a
SIGKILL. A second test reads what the sandbox's own node writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client

from flightdeck.events import Cause, Recorded, subjects
from flightdeck.events.cluster import ContainerPhase, ContainerState, PodObserved
from flightdeck.events.logs import LogLevel, LogLinesCaptured, LogSource
from flightdeck.eventstore import EventStore
from flightdeck.sandbox import Sandbox
from tests.integration.log_relay.cluster import Relays, log_events, pods_of
from tests.support.manifests import deployment
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@dataclass
class Node:
    """One container's log directory, written as containerd writes and kubelet rotates it."""

    directory: Path
    run: int = 0
    clock: int = 0
    written: list[tuple[str, str]] = field(default_factory=list)  # (stream, text) per line
    rotations: int = 0

    @property
    def live(self) -> Path:
        return self.directory / f"{self.run}.log"

    def _record(self, stream: str, tag: str, text: str) -> str:
        self.clock += 1
        at = T0 + timedelta(milliseconds=self.clock)
        return f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}421Z {stream} {tag} {text}\n"

    def write(self, raw: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.live.open("a") as f:
            f.write(raw)

    def lines(self, count: int, stream_every: int = 3) -> None:
        for _ in range(count):
            n = len(self.written)
            stream = "stderr" if n % stream_every == 0 else "stdout"
            text = f"INFO line {n} of run {self.run}"
            self.write(self._record(stream, "F", text))
            self.written.append((stream, text))

    def begin_long_line(self, stream: str, first: str) -> None:
        self.write(self._record(stream, "P", first))

    def end_long_line(self, stream: str, first: str, rest: str) -> None:
        self.write(self._record(stream, "F", rest))
        self.written.append((stream, first + rest))

    def rotate(self) -> None:
        """Rename to ``<n>.log.<stamp>``, then the runtime opens a new ``<n>.log``."""
        self.rotations += 1
        stamp = (T0 + timedelta(seconds=self.rotations)).strftime("%Y%m%d-%H%M%S")
        os.rename(self.live, self.directory / f"{self.run}.log.{stamp}")
        self.live.touch()

    def restart(self) -> None:
        self.run += 1


def pod(uid: str, restarts: int) -> PodObserved:
    return PodObserved(
        namespace="lr-files",
        name="web-1",
        uid=uid,
        labels={"app": "files", "flightdeck.io/deployment": "dep-files"},
        owner="web-rs",
        phase="Running",
        ready=True,
        node="node-a",
        pod_ip=None,
        host_ip=None,
        containers=[
            ContainerState(
                name="app",
                image="files:v1",
                phase=ContainerPhase.RUNNING,
                ready=True,
                restart_count=restarts,
            )
        ],
        resource_version=str(10 + restarts),
    )


async def observe(store: EventStore, observed: PodObserved) -> None:
    subject = subjects.cluster_object(observed.namespace, "Pod", observed.name)
    await store.append(
        subject, [observed], cause=Cause(actor="service:k8s-watcher", correlation_id="test")
    )


async def captured(store: EventStore, namespace: str) -> list[Recorded[Any]]:
    return [r for r in await log_events(store, namespace) if isinstance(r.event, LogLinesCaptured)]


async def until_lines(store: EventStore, namespace: str, count: int) -> list[Any]:
    async def enough() -> list[Any] | None:
        lines = [ln for r in await captured(store, namespace) for ln in r.event.lines]
        return lines if len(lines) >= count else None

    return await eventually(enough, within=30, what=f"{count} lines relayed from the files")


async def test_node_mode_relays_rotated_files_once_in_order_with_the_true_stream(
    relays: Relays, store: EventStore, tmp_path: Path
) -> None:
    ns, uid, root = "lr-files", "5e0c1b7a-files", tmp_path / "pods"
    node = Node(root / f"{ns}_web-1_{uid}" / "app")
    settings = {"mode": "node", "node_log_dir": str(root), "node_name": "node-a", "poll_ms": "20"}
    node.lines(10)
    await observe(store, pod(uid, 0))
    relay = await relays.start("files-1", ns, **settings)
    await until_lines(store, ns, 10)

    # a long line whose fragments straddle a rotation (kubelet: rename, then a new file)
    node.begin_long_line("stdout", "INFO a long line that ")
    node.rotate()
    node.end_long_line("stdout", "INFO a long line that ", "spans two files")
    node.lines(10)
    await until_lines(store, ns, 21)

    # the relay dies; the node writes on and rotates twice before it is back
    relay.kill()
    node.lines(15)
    node.rotate()
    node.lines(5)
    node.rotate()
    node.lines(5)
    await relays.start("files-1", ns, **settings)
    await until_lines(store, ns, len(node.written))

    # the container restarts: a new run, a new file
    node.restart()
    node.lines(7)
    await observe(store, pod(uid, 1))
    lines = await until_lines(store, ns, len(node.written))

    assert [(ln.source.value, ln.text) for ln in lines] == node.written  # once, in order
    assert all(not ln.source_inferred for ln in lines)
    assert {ln.level for ln in lines} == {LogLevel.INFO}  # INFO on stderr: a fact, not a guess
    assert any(ln.source == LogSource.STDERR for ln in lines)
    events = await captured(store, ns)
    assert {r.correlation_id for r in events} == {"dep-files"}  # the pod's deployment
    assert [r.event.restart_count for r in events][-1] == 1
    assert all(r.event.node == "node-a" and r.event.app == "files" for r in events)


async def test_the_sandboxs_node_files_give_each_line_its_true_stream(
    relays: Relays,
    store: EventStore,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    log_sandbox: Sandbox,
) -> None:
    ns = "lr-node"
    assert log_sandbox.node_log_dir is not None
    await relays.start(
        "node-1", ns, mode="node", node_log_dir=str(log_sandbox.node_log_dir), poll_ms="20"
    )
    await apps.create_namespaced_deployment(ns, deployment("shop", "shop/app:v1"))

    async def enough() -> list[Any] | None:
        lines = [ln for r in await captured(store, ns) for ln in r.event.lines]
        return lines if len(lines) >= 60 else None

    lines = await eventually(enough, within=30, what="60 lines from the sandbox's node files")
    truth = {}  # each line's stream, as the sandbox's pods/log serves one stream at a time
    async with httpx.AsyncClient(base_url=log_sandbox.k8s_url) as http:
        for running in await pods_of(core, ns, "shop"):
            for stream in ("Stdout", "Stderr"):
                reply = await http.get(
                    f"/api/v1/namespaces/{ns}/pods/{running.metadata.name}/log",
                    params={"container": "app", "stream": stream},
                )
                truth.update(dict.fromkeys(reply.text.splitlines(), stream.lower()))

    assert all(truth.get(ln.text) == ln.source.value for ln in lines if ln.text in truth)
    assert sum(ln.text in truth for ln in lines) >= 50
    assert all(not ln.source_inferred for ln in lines)
    hello = [ln for ln in lines if ln.text == "INFO diagnostics go to stderr"]
    assert hello and {(ln.source, ln.level) for ln in hello} == {(LogSource.STDERR, LogLevel.INFO)}
