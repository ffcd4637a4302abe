"""The sandbox process: API server, ingress port, moto and the simulation, together.

Binds its sockets first (so port 0 gets a free port with no race), starts
moto, builds the cluster and its controllers, serves both ports with
uvicorn, writes the kubeconfig and a ready file, and on SIGTERM/SIGINT ends
every stream and stops in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from flightdeck.sandbox import aws, clock, kubeconfig, resources
from flightdeck.sandbox.admin import Admin
from flightdeck.sandbox.app import KubernetesApi
from flightdeck.sandbox.cluster import Cluster
from flightdeck.sandbox.config import SandboxConfig
from flightdeck.sandbox.controllers.context import Context
from flightdeck.sandbox.controllers.runner import Simulation
from flightdeck.sandbox.faults import Faults
from flightdeck.sandbox.nodefiles import NodeFileLimits, NodeFiles
from flightdeck.sandbox.persistence import ClusterState
from flightdeck.sandbox.podlogs import PodLogs
from flightdeck.sandbox.recorder import Recorder
from flightdeck.sandbox.rest import Rest
from flightdeck.sandbox.store import Store
from flightdeck.sandbox.workloads import IngressRouter

log = logging.getLogger(__name__)
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SAVE_INTERVAL = 1.0
"""Wall seconds between two snapshots of a changing cluster (a kill -9 loses at most this)."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the sandbox stops both servers itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _bind_again(host: str, port: int, before: int | None) -> socket.socket:
    """``port`` if set; else the one this state dir used before, when it is still free
    (a restarted cluster keeps its addresses, so URLs and kubeconfigs stay good); else
    a free one."""
    if port or not before:
        return _bind(host, port)
    try:
        return _bind(host, before)
    except OSError:
        return _bind(host, 0)


def _free(host: str, port: int | None) -> bool:
    if not port:
        return False
    try:
        _bind(host, port).close()
    except OSError:
        return False
    return True


def bootstrap(cluster: Cluster, config: SandboxConfig) -> None:
    """What a fresh cluster has: system namespaces, nodes, the ``kubernetes`` Service."""
    for name in SYSTEM_NAMESPACES:
        cluster.create(
            resources.NAMESPACES, "", {"metadata": {"name": name}}, manager="kube-apiserver"
        )
    for index, name in enumerate(config.nodes, start=1):
        cluster.write(resources.NODES, _node(name, index))
    cluster.create(
        resources.SERVICES,
        "default",
        {
            "metadata": {
                "name": "kubernetes",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {
                "clusterIP": "10.96.0.1",
                "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
            },
        },
        manager="kube-apiserver",
    )


def _node(name: str, index: int) -> dict[str, Any]:
    now = clock.rfc3339()
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"00000000-0000-4000-8000-{index:012d}",
            "creationTimestamp": now,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "spec": {"podCIDR": f"10.244.{index}.0/24"},
        "status": {
            "capacity": {"cpu": "4", "memory": "8137836Ki", "pods": "110"},
            "allocatable": {"cpu": "4", "memory": "8035436Ki", "pods": "110"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"172.18.0.{index + 1}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "kubeProxyVersion": "v1.32.0",
                "osImage": "Flightdeck Sandbox",
                "kernelVersion": "6.1.0",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "containerRuntimeVersion": "containerd://1.7.24",
            },
        },
    }


@dataclass
class _Parts:
    """Everything one sandbox process runs, wired but not yet started."""

    info: dict[str, Any]
    store: Store
    state: ClusterState
    logs: PodLogs
    simulation: Simulation
    moto: aws.MotoServer
    servers: list[tuple[_Server, socket.socket]]


def build(config: SandboxConfig, state_dir: Path) -> _Parts:
    """Bind the ports, start moto, build the cluster and both ASGI apps."""
    state = ClusterState.open(state_dir)
    before = state.snapshot.ports
    k8s_sock, ingress_sock = (
        _bind_again(config.host, config.ports.k8s, before.get("k8s")),
        _bind_again(config.host, config.ports.ingress, before.get("ingress")),
    )
    k8s_port, ingress_port = k8s_sock.getsockname()[1], ingress_sock.getsockname()[1]
    aws_port = config.ports.aws
    if not aws_port and _free(config.host, before.get("aws")):
        aws_port = before["aws"]
    moto = aws.MotoServer(config.host, aws_port)
    moto.start()
    state.snapshot.ports = {"k8s": k8s_port, "ingress": ingress_port, "aws": moto.port}
    k8s_url = f"http://{config.host}:{k8s_port}"
    info = {
        "k8s_url": k8s_url,
        "ingress_url": f"http://{config.host}:{ingress_port}",
        "aws_endpoint": moto.endpoint,
        "aws_region": config.aws_region,
        "kubeconfig": str(kubeconfig.write(state_dir / "kubeconfig", k8s_url)),
        "pid": os.getpid(),
        "speed": config.speed,
    }
    store = Store(config.watch_history)
    generation = state.start_generation()
    seed = config.seed if generation == 0 else f"{config.seed}/{generation}"
    cluster = Cluster(store, random.Random(seed))
    node = _node_files(config, state_dir)
    info["node_log_dir"] = str(node.root) if node is not None else None
    logs, faults = PodLogs(config.log_buffer_lines, node), Faults()
    if state.restored:
        state.restore(store)
    else:
        bootstrap(cluster, config)
    recorder = Recorder(cluster, config.max_events)
    simulation = Simulation(
        Context(cluster, recorder, config, clock.Clock(config.speed), logs), ingress_port
    )

    async def push(repository: str, tag: str) -> dict[str, Any]:
        pushed = await aws.push_image(moto.endpoint, config.aws_region, repository, tag)
        state.add_image(repository, tag)
        return pushed

    api = KubernetesApi(
        Rest(cluster, logs, config),
        Admin(cluster, faults, push, info),
        faults,
        f"{config.host}:{k8s_port}",
    )
    ingress = IngressRouter(store, logs, config)
    servers = [(_server(api), k8s_sock), (_server(ingress), ingress_sock)]
    return _Parts(info, store, state, logs, simulation, moto, servers)


def _node_files(config: SandboxConfig, state_dir: Path) -> NodeFiles | None:
    """The node's pod log directory, when the sandbox writes one."""
    if not config.node_logs:
        return None
    limits = NodeFileLimits(
        max_file_bytes=config.container_log_max_bytes,
        max_files=max(2, config.container_log_max_files),
        removal_delay_s=config.wall(config.pod_log_removal_delay),
    )
    return NodeFiles(Path(config.node_log_dir or state_dir / "node" / "pods"), limits)


def _server(app: Any) -> _Server:
    return _Server(
        uvicorn.Config(
            app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=1
        )
    )


async def serve(
    config: SandboxConfig, state_dir: Path, ready_file: Path | None = None, announce: bool = True
) -> None:
    """Run the sandbox until SIGTERM or SIGINT."""
    parts = build(config, state_dir)
    await _push_again(parts, config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, sock in parts.servers]
    tasks.append(asyncio.create_task(parts.simulation.run()))
    saver = asyncio.create_task(_keep_saving(parts))
    try:
        while not all(server.started for server, _ in parts.servers):
            if any(t.done() for t in tasks):
                await _until_stopped(stop, tasks)  # raises what stopped it
                raise RuntimeError("a sandbox server stopped while starting")
            await asyncio.sleep(0.01)
        _ready(parts.info, ready_file, announce)
        await _until_stopped(stop, tasks)
    finally:
        saver.cancel()
        await _shut_down(parts, tasks)
        parts.state.save(parts.store)


async def _push_again(parts: _Parts, config: SandboxConfig, at_once: int = 8) -> None:
    """ECR (moto) keeps nothing across a restart: push again what was pushed before."""
    gate = asyncio.Semaphore(at_once)

    async def one(repository: str, tag: str) -> None:
        async with gate:
            await aws.push_image(parts.moto.endpoint, config.aws_region, repository, tag)

    await asyncio.gather(*(one(repo, tag) for repo, tag in parts.state.snapshot.images))


async def _keep_saving(parts: _Parts) -> None:
    """Snapshot the cluster shortly after it changes (see :mod:`~flightdeck.sandbox.persistence`)."""
    while True:
        await asyncio.sleep(SAVE_INTERVAL)
        try:
            parts.state.save(parts.store)
        except OSError:
            log.exception("cannot save the cluster to %s", parts.state.path)


async def _shut_down(parts: _Parts, tasks: list[asyncio.Task[None]]) -> None:
    """End every stream first, so the servers have no open response to wait for."""
    parts.store.drop_watchers()
    parts.logs.close_all()
    for server, _ in parts.servers:
        server.should_exit = True
    await asyncio.gather(*tasks[:-1], return_exceptions=True)
    tasks[-1].cancel()
    await asyncio.gather(tasks[-1], return_exceptions=True)
    parts.moto.stop()


async def _until_stopped(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    for task in done:
        if task is not stopper and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


def _ready(info: dict[str, Any], ready_file: Path | None, announce: bool) -> None:
    if ready_file is not None:
        partial = ready_file.with_suffix(".tmp")
        partial.write_text(json.dumps(info))
        partial.replace(ready_file)
    if announce:
        print(f"Kubernetes API  {info['k8s_url']}", flush=True)
        print(f"Ingress         {info['ingress_url']}", flush=True)
        print(f"AWS (moto)      {info['aws_endpoint']}  region {info['aws_region']}", flush=True)
        print(f"kubeconfig      {info['kubeconfig']}", flush=True)
        print(f"                export KUBECONFIG={info['kubeconfig']}", flush=True)
