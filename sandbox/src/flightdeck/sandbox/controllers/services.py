"""Services seen from outside: which pods a Service picks, where an Ingress answers."""

from __future__ import annotations

from flightdeck.sandbox import resources, selectors
from flightdeck.sandbox.controllers.context import Context, Obj, is_ready

INGRESS_COMPONENT = "ingress-controller"


def target_port(service_port: Obj, pod: Obj) -> int | None:
    """A Service port's targetPort resolved against a pod (a name means a container port name)."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


class IngressController:
    """Gives each Ingress the sandbox ingress port as its load-balancer address, after a delay."""

    def __init__(self, ctx: Context, ingress_port: int) -> None:
        self.ctx = ctx
        self.port = ingress_port
        self._seen: dict[str, float] = {}

    def sync(self) -> None:
        now = self.ctx.clock.monotonic()
        delay = self.ctx.clock.wall(self.ctx.config.timings.ingress_address)
        wanted = [{"hostname": "localhost", "ports": [{"port": self.port, "protocol": "TCP"}]}]
        live = set()
        for ingress in self.ctx.cluster.store.list("ingresses.networking.k8s.io"):
            uid = ingress["metadata"]["uid"]
            live.add(uid)
            first = self._seen.setdefault(uid, now)
            lb = (ingress.get("status") or {}).get("loadBalancer") or {}
            if lb.get("ingress") == wanted or now - first < delay:
                continue
            updated = {
                **ingress,
                "metadata": dict(ingress["metadata"]),
                "status": {"loadBalancer": {"ingress": wanted}},
            }
            self.ctx.cluster.write(resources.INGRESSES, updated)
            self.ctx.recorder.emit(
                ingress, "Normal", "Sync", "Scheduled for sync", component=INGRESS_COMPONENT
            )
        for uid in set(self._seen) - live:
            del self._seen[uid]


def matching_pods(service: Obj, pods: list[Obj]) -> list[Obj]:
    """Ready, non-terminating pods a Service's selector picks."""
    selector = selectors.from_label_selector(
        {"matchLabels": (service.get("spec") or {}).get("selector") or {}}
    )
    if not selector:
        return []
    return [
        p
        for p in pods
        if is_ready(p)
        and not p["metadata"].get("deletionTimestamp")
        and selectors.matches_labels(selector, p["metadata"].get("labels"))
    ]
