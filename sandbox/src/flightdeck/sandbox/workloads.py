"""The ingress controller's port: route by Host and path to a Ready pod, answer as its app.

A request goes where a real ingress controller would send it: the Ingress
rule for its Host and path (exact host over wildcard over host-less; longest
path), then the Service, then one of the Ready pods the Service selects
(round robin). A Host of ``<service>.<namespace>.svc[.cluster.local]`` reaches a
Service directly, as from inside the cluster. The pod's answer follows its
container's behaviour: latency, failure rate, health path, unhealthy marker.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from dataclasses import dataclass
from typing import Any

from flightdeck.sandbox import asgi, behaviour, clock
from flightdeck.sandbox.asgi import Receive, Request, Scope, Send
from flightdeck.sandbox.config import SandboxConfig
from flightdeck.sandbox.controllers.services import matching_pods, target_port
from flightdeck.sandbox.podlogs import PodLogs
from flightdeck.sandbox.store import Obj, Store

COLOR_LABELS = (
    "color",
    "colour",
    "flightdeck.dev/color",
    "flightdeck.io/color",
    "app.kubernetes.io/version",
)


@dataclass(frozen=True)
class Backend:
    namespace: str
    service: str
    port: int | str | None  # a Service port number or name; None: its first port


def _host_rank(rule_host: str, host: str) -> int | None:
    """2 for an exact host, 1 for a matching wildcard, 0 for a rule without host; None: no match."""
    if not rule_host:
        return 0
    if rule_host == host:
        return 2
    if (
        rule_host.startswith("*.")
        and host.count(".") == rule_host.count(".")
        and host.endswith(rule_host[1:])
    ):
        return 1
    return None


def _path_match(path_type: str, rule_path: str, path: str) -> bool:
    if path_type == "Exact":
        return path == rule_path
    if path_type == "Prefix":
        prefix = rule_path.rstrip("/")
        return not prefix or path == prefix or path.startswith(prefix + "/")
    return path.startswith(rule_path or "/")


def _backend(namespace: str, spec: Obj | None) -> Backend | None:
    service = (spec or {}).get("service") or {}
    if not service.get("name"):
        return None
    port = service.get("port") or {}
    return Backend(namespace, service["name"], port.get("number") or port.get("name"))


def route(ingresses: list[Obj], host: str, path: str) -> Backend | None:
    """The backend an ingress controller picks for ``host`` and ``path``."""
    best: tuple[tuple[int, int, int], Backend] | None = None
    default: Backend | None = None
    for ingress in sorted(ingresses, key=lambda i: i["metadata"].get("creationTimestamp", "")):
        namespace, spec = ingress["metadata"]["namespace"], ingress.get("spec") or {}
        default = default or _backend(namespace, spec.get("defaultBackend"))
        for rule in spec.get("rules") or []:
            rank = _host_rank(rule.get("host") or "", host)
            if rank is None:
                continue
            for entry in (rule.get("http") or {}).get("paths") or []:
                kind, rule_path = entry.get("pathType", "Prefix"), entry.get("path") or "/"
                backend = _backend(namespace, entry.get("backend"))
                if backend is None or not _path_match(kind, rule_path, path):
                    continue
                score = (rank, 1 if kind == "Exact" else 0, len(rule_path))
                if best is None or score > best[0]:
                    best = (score, backend)
    return best[1] if best else default


def service_host(host: str) -> Backend | None:
    """``web.shop.svc.cluster.local`` → the Service ``web`` in ``shop``."""
    parts = host.split(".")
    if (
        len(parts) >= 3
        and parts[2] == "svc"
        and (len(parts) == 3 or parts[3:] == ["cluster", "local"])
    ):
        return Backend(parts[1], parts[0], None)
    return None


class IngressRouter:
    """The ASGI app on the ingress port."""

    def __init__(self, store: Store, logs: PodLogs, config: SandboxConfig) -> None:
        self.store = store
        self.logs = logs
        self.config = config
        self._rng = random.Random(config.seed)
        self._turns: dict[tuple[str, str], itertools.count[int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = await Request.read(scope, receive)
        host = request.headers.get("host", "").rsplit(":", 1)[0].lower()
        backend = service_host(host) or route(
            self.store.list("ingresses.networking.k8s.io"), host, request.path
        )
        if backend is None:
            await asgi.respond(send, 404, b"default backend - 404\n", asgi.TEXT)
            return
        service = self.store.get("services", backend.namespace, backend.service)
        pods = matching_pods(service, self.store.list("pods", backend.namespace)) if service else []
        if service is None or not pods:
            body = {
                "error": "no ready pods",
                "namespace": backend.namespace,
                "service": backend.service,
            }
            await asgi.respond_json(send, 503, body)
            return
        turn = self._turns.setdefault((backend.namespace, backend.service), itertools.count())
        pod = pods[next(turn) % len(pods)]
        await self._answer(request, send, service, backend, pod, scope)

    async def _answer(
        self, request: Request, send: Send, service: Obj, backend: Backend, pod: Obj, scope: Scope
    ) -> None:
        container = _serving_container(service, backend, pod)
        acts = behaviour.of(container, self.config.markers, self.config.log_lines_per_second)
        if acts.latency_ms:
            await asyncio.sleep(acts.latency_ms / 1000)
        health = request.path.rstrip("/") == acts.health_path.rstrip("/")
        failing = (health and acts.unhealthy) or self._rng.random() < acts.failure_rate
        code = 500 if failing else 200
        labels = pod["metadata"].get("labels") or {}
        color = next((labels[k] for k in COLOR_LABELS if labels.get(k)), "")
        body: dict[str, Any] = {
            "status": "error" if failing else "ok",
            "healthy": not (health and acts.unhealthy),
            "pod": pod["metadata"]["name"],
            "namespace": pod["metadata"]["namespace"],
            "service": backend.service,
            "app": labels.get("app", ""),
            "color": color,
            "image": container.get("image", ""),
            "node": pod["spec"].get("nodeName", ""),
            "podIP": pod["status"].get("podIP", ""),
            "method": request.method,
            "path": request.path,
        }
        headers = {
            "X-Sandbox-Pod": pod["metadata"]["name"],
            "X-Sandbox-Namespace": pod["metadata"]["namespace"],
        }
        if color:
            headers["X-Sandbox-Color"] = color
        encoded = asgi.encode(body)
        await asgi.respond(send, code, encoded, asgi.JSON, headers)
        self._access_log(pod, container, request, scope, code, len(encoded))

    def _access_log(
        self, pod: Obj, container: Obj, request: Request, scope: Scope, code: int, size: int
    ) -> None:
        log = self.logs.current(
            (pod["metadata"]["namespace"], pod["metadata"]["name"], container.get("name", ""))
        )
        if log is None:
            return
        client = (scope.get("client") or ("-",))[0]
        now = clock.now()
        agent = request.headers.get("user-agent", "-")
        log.write(
            "stderr" if code >= 500 else "stdout",
            f'{client} - - [{now:%d/%b/%Y:%H:%M:%S +0000}] "{request.method} {request.path} HTTP/1.1" '
            f'{code} {size} "-" "{agent}"',
            now,
        )


def _serving_container(service: Obj, backend: Backend, pod: Obj) -> Obj:
    """The container listening on the Service port's target, else the first one."""
    ports = (service.get("spec") or {}).get("ports") or []
    port = next(
        (p for p in ports if backend.port in (p.get("port"), p.get("name"))),
        ports[0] if ports else None,
    )
    containers = pod["spec"].get("containers") or [{}]
    wanted = target_port(port, pod) if port else None
    for container in containers:
        if any(p.get("containerPort") == wanted for p in container.get("ports") or []):
            return dict(container)
    return dict(containers[0])


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
