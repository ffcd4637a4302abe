"""The live app view: what an app's stream and the tenant's feed send, and which events
belong to them (ADR 0023).

An app's stream joins four sources: its pods, their CPU/memory samples and its
Kubernetes Deployments (the cluster stream, one namespace), its blue/green slot
(deployments starting and ending), its deployments' own events (stages), and its
ops actions. A namespace's cluster
events belong to the app by the pods' ``app`` label; a sample or a deletion names
only the pod, so each client keeps the pods it knows (:class:`AppCluster`). CPU
and memory are coalesced per client: a pod's sample is sent only if the last one
sent was at least a polling interval earlier (by event time, with
:data:`INTERVAL_SLACK`), whatever the watcher published (a restart, a second
leader, a resync). Every payload here is app-independent, so it is rendered once
per event (:class:`RenderCache`) and shared by every client that sends it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import msgspec

from flightdeck.events import Recorded, subjects
from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.cluster import (
    ContainerPhase,
    ContainerState,
    DeploymentObserved,
    PodMetricsSampled,
    PodObserved,
    ResourceDeleted,
)
from flightdeck.events.deployments import Colour, DeploymentRequested
from flightdeck.gateway.domain import pipeline
from flightdeck.gateway.domain.rendering import Rendered

_encode = msgspec.json.Encoder().encode

INTERVAL_SLACK = 0.05
"""Samples of one pod closer than ``(1 - slack) × interval`` are coalesced: a watcher's
samples are an interval apart by its clock, give or take a timer firing early."""


# ------------------------------------------------------------------ payloads


class PodPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A pod as the app view shows it (``event: pod``, and in the app document)."""

    name: str
    colour: str | None
    phase: str
    ready: bool
    restarts: int
    node: str | None
    waiting_reason: str | None
    cpu_millicores: float | None = None
    memory_bytes: int | None = None
    timestamp: datetime | None = None


class PodDeletedPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    name: str
    timestamp: datetime


class ContainerMetrics(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    name: str
    cpu_millicores: float
    memory_bytes: int


class MetricsPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One pod's CPU (millicores) and memory (bytes), summed over its containers."""

    pod: str
    cpu_millicores: float
    memory_bytes: int
    containers: list[ContainerMetrics]
    window_s: float
    interval_s: float | None
    timestamp: datetime


class ReplicasPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One colour's Kubernetes Deployment: desired and ready replicas."""

    colour: str | None
    deployment: str
    desired: int
    ready: int
    available: int
    updated: int
    deleted: bool
    timestamp: datetime


class SlotPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """A deployment of the app started (``RUNNING``) or ended (its outcome)."""

    deployment_id: str
    status: str
    colour: str | None
    previous_colour: str | None
    serving_colour: str | None
    timestamp: datetime


class OpsPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """An ops action's event (requested, succeeded, failed…) with who asked; the event's
    other fields (``errorCode``, ``message``, ``detail``, ``replicas``…) follow, camelCased."""

    type: str
    status: str
    action_id: str | None
    action: str | None
    namespace: str | None
    target: str | None
    actor: str | None
    timestamp: datetime


class ReplicaCounts(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    desired: int
    ready: int


class DeploymentBrief(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: str
    status: str
    image: str
    colour: str | None
    url: str | None
    error_code: str | None
    created_at: datetime
    finished_at: datetime | None


class AppView(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """An app now: ``GET /api/v1/apps/{app}``, and the first event of its stream."""

    app: str
    namespace: str
    live_colour: str | None
    image: str | None
    url: str | None
    replicas: ReplicaCounts
    active_deployment: DeploymentBrief | None
    last_deployment: DeploymentBrief | None
    pods: list[PodPayload]


class AppSummary(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One of a tenant's apps in ``GET /api/v1/apps``."""

    app: str
    namespace: str
    live_colour: str | None
    active_deployment_id: str | None
    last_deployment_id: str | None
    last_outcome: str | None
    claimed_at: datetime
    updated_at: datetime | None


# ------------------------------------------------------------------ rendering


def waiting_reason(containers: Iterable[ContainerState]) -> str | None:
    """Why the pod is not running yet (``ImagePullBackOff``, ``CrashLoopBackOff``…), if it waits."""
    for c in containers:
        if c.phase == ContainerPhase.WAITING and c.reason:
            return c.reason
    return None


def pod_payload(e: PodObserved, at: datetime | None) -> PodPayload:
    return PodPayload(
        name=e.name,
        colour=e.labels.get("colour"),
        phase=e.phase,
        ready=e.ready,
        restarts=sum(c.restart_count for c in e.containers),
        node=e.node,
        waiting_reason=waiting_reason(e.containers),
        timestamp=at,
    )


def _metrics(rec: Recorded[Any]) -> Rendered:
    e: PodMetricsSampled = rec.event
    payload = MetricsPayload(
        pod=e.pod,
        cpu_millicores=sum(c.cpu_millicores for c in e.containers),
        memory_bytes=sum(c.memory_bytes for c in e.containers),
        containers=[
            ContainerMetrics(
                name=c.name, cpu_millicores=c.cpu_millicores, memory_bytes=c.memory_bytes
            )
            for c in e.containers
        ],
        window_s=e.window_s,
        interval_s=e.interval_s,
        timestamp=rec.time,
    )
    return Rendered(rec.position, "metrics", _encode(payload))


def _replicas(rec: Recorded[Any]) -> Rendered:
    e: DeploymentObserved = rec.event
    payload = ReplicasPayload(
        colour=e.labels.get("colour"),
        deployment=e.name,
        desired=e.replicas,
        ready=e.ready_replicas,
        available=e.available_replicas,
        updated=e.updated_replicas,
        deleted=False,
        timestamp=rec.time,
    )
    return Rendered(rec.position, "replicas", _encode(payload))


def _deleted(rec: Recorded[Any]) -> Rendered | None:
    e: ResourceDeleted = rec.event
    if e.kind == "Pod":
        data = _encode(PodDeletedPayload(name=e.name, timestamp=rec.time))
        return Rendered(rec.position, "pod_deleted", data)
    if e.kind == "Deployment":
        colour = e.name.rsplit("-", 1)[-1]
        payload = ReplicasPayload(
            colour=colour if colour in Colour.__members__.values() else None,
            deployment=e.name,
            desired=0,
            ready=0,
            available=0,
            updated=0,
            deleted=True,
            timestamp=rec.time,
        )
        return Rendered(rec.position, "replicas", _encode(payload))
    return None


def render_cluster(rec: Recorded[Any]) -> Rendered | None:
    """A cluster event as the app stream sends it (whichever app it belongs to)."""
    e = rec.event
    match e:
        case PodObserved():
            return Rendered(rec.position, "pod", _encode(pod_payload(e, rec.time)))
        case PodMetricsSampled():
            return _metrics(rec)
        case DeploymentObserved():
            return _replicas(rec)
        case ResourceDeleted():
            return _deleted(rec)
    return None


def render_slot(rec: Recorded[Any]) -> Rendered | None:
    """The app's slot: a deployment claimed it (``RUNNING``) or released it (its outcome)."""
    e = rec.event
    match e:
        case AppSlotClaimed():
            payload = SlotPayload(
                deployment_id=e.deployment_id,
                status="RUNNING",
                colour=e.colour.value,
                previous_colour=e.previous_colour.value if e.previous_colour else None,
                serving_colour=e.previous_colour.value if e.previous_colour else None,
                timestamp=rec.time,
            )
        case AppReleased():
            payload = SlotPayload(
                deployment_id=e.deployment_id,
                status=e.outcome.value,
                colour=None,
                previous_colour=None,
                serving_colour=e.serving_colour.value if e.serving_colour else None,
                timestamp=rec.time,
            )
        case _:
            return None
    return Rendered(rec.position, "deployment", _encode(payload))


_OPS_FIELDS = ("action_id", "action", "namespace", "target")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def render_ops(rec: Recorded[Any]) -> Rendered | None:
    """Any event on an app's ops subject, whatever its kind (requested, succeeded, failed…):
    the common fields, who asked, and the event's own fields."""
    fields = msgspec.to_builtins(rec.event)
    if not isinstance(fields, dict):
        return None
    fields.pop("type", None)
    common = {name: fields.pop(name, None) for name in _OPS_FIELDS}
    kind = rec.type.rsplit(".", 1)[-1]
    payload = OpsPayload(
        type=rec.type,
        status=kind.rsplit("_", 1)[-1].upper(),
        action_id=_text(common["action_id"]),
        action=_text(common["action"]),
        namespace=_text(common["namespace"]),
        target=_text(common["target"]),
        actor=rec.actor,
        timestamp=rec.time,
    )
    data = msgspec.to_builtins(payload)
    data.update({_camel(k): v for k, v in fields.items() if _camel(k) not in data})
    return Rendered(rec.position, "ops", _encode(data))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class RenderCache:
    """Renders each event once, whoever sends it: the last ``size`` events by position.

    Clients of a feed are handed the same event one after the other, and a replay
    reads what live clients rendered moments ago, so a small cache is enough.
    """

    def __init__(self, render: Callable[[Recorded[Any]], Rendered | None], size: int = 4096):
        self._render = render
        self._size = size
        self._done: OrderedDict[tuple[str, int], Rendered | None] = OrderedDict()

    def __call__(self, rec: Recorded[Any]) -> Rendered | None:
        key = (rec.stream, rec.position)
        try:
            return self._done[key]
        except KeyError:
            pass
        rendered = self._done[key] = self._render(rec)
        if len(self._done) > self._size:
            self._done.popitem(last=False)
        return rendered


# ------------------------------------------------------------------ what belongs to whom


class AppCluster:
    """One client's view of a namespace's cluster events: the app's pods, their samples
    (coalesced), and the app's Deployments.

    Args:
        app: the app whose pods (label ``app``) and Deployments (``<app>-<colour>``) pass.
        render: the shared rendering (:func:`render_cluster`, cached).
        pods: the app's pods known before the client's first event (from the read
            model and the stream); pods observed later are learned here.
        last_sample: per pod, when the last sample the client may have seen was taken.
        interval_s: the polling interval of samples that do not state theirs.
    """

    def __init__(
        self,
        app: str,
        render: Callable[[Recorded[Any]], Rendered | None],
        *,
        pods: Iterable[str] = (),
        last_sample: dict[str, datetime] | None = None,
        interval_s: float,
    ) -> None:
        self.app = app
        self.render = render
        self.pods = set(pods)
        self.last_sample = dict(last_sample or {})
        self.interval_s = interval_s
        self._deployments = {f"{app}-{c.value}" for c in Colour}

    def __call__(self, rec: Recorded[Any]) -> Rendered | None:
        e = rec.event
        match e:
            case PodObserved():
                if e.labels.get("app") != self.app:
                    return None
                self.pods.add(e.name)
            case PodMetricsSampled():
                if e.pod not in self.pods or not self.due(e, rec.time):
                    return None
                self.last_sample[e.pod] = rec.time
            case DeploymentObserved():
                if e.labels.get("app") != self.app:
                    return None
            case ResourceDeleted():
                if e.kind == "Pod" and e.name not in self.pods:
                    return None
                if e.kind == "Deployment" and e.name not in self._deployments:
                    return None
            case _:
                return None
        return self.render(rec)

    def due(self, sample: PodMetricsSampled, at: datetime) -> bool:
        """Whether a sample taken ``at`` is a polling interval after the last one sent."""
        last = self.last_sample.get(sample.pod)
        if last is None:
            return True
        interval = sample.interval_s or self.interval_s
        return (at - last).total_seconds() >= interval * (1 - INTERVAL_SLACK)


class TenantDeployments:
    """One client's view of every deployment's events: its tenant's (and, for an app's
    stream, that app's), learned from each deployment's request (its first event) or
    known before the client's first event.

    The final events (``done``, ``error``) end a deployment's own stream but not this
    feed, so they are sent as ordinary events.
    """

    def __init__(
        self,
        tenant: str,
        render: Callable[[Recorded[Any]], Rendered | None],
        known: Iterable[str] = (),
        *,
        namespace: str | None = None,
        app: str | None = None,
    ) -> None:
        self.tenant = tenant
        self.render = render
        self.known = set(known)
        self.namespace = namespace
        self.app = app

    def belongs(self, request: DeploymentRequested) -> bool:
        return (
            request.tenant == self.tenant
            and (self.app is None or request.app == self.app)
            and (self.namespace is None or request.namespace == self.namespace)
        )

    def __call__(self, rec: Recorded[Any]) -> Rendered | None:
        deployment_id = subjects.aggregate_id(rec.subject)
        if deployment_id not in self.known:
            e = rec.event
            if not isinstance(e, DeploymentRequested) or not self.belongs(e):
                return None
            self.known.add(deployment_id)
        return self.render(rec)


def render_feed_deployment(rec: Recorded[Any]) -> Rendered | None:
    """A deployment event as the tenant feed sends it: as its own stream does, never final."""
    rendered = pipeline.render(rec)
    if rendered is None or not rendered.terminal:
        return rendered
    return Rendered(rendered.position, rendered.event, rendered.data)


def app_of_ops(namespace: str) -> Callable[[Recorded[Any]], Rendered | None]:
    """Ops events of one namespace's app (the ops subject names the tenant and app only)."""

    def ops(rec: Recorded[Any]) -> Rendered | None:
        if getattr(rec.event, "namespace", namespace) != namespace:
            return None
        return render_ops(rec)

    return ops


# ------------------------------------------------------------------ the app document

Row = dict[str, Any]


def brief(row: Row | None) -> DeploymentBrief | None:
    if row is None:
        return None
    return DeploymentBrief(
        id=row["id"],
        status=row["status"],
        image=row["image"],
        colour=row["colour"],
        url=row["url"],
        error_code=row["error_code"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


def pod_of_row(row: Row) -> PodPayload:
    containers = msgspec.convert(row["containers"] or [], list[ContainerState])
    return PodPayload(
        name=row["name"],
        colour=row["colour"],
        phase=row["phase"],
        ready=row["ready"],
        restarts=row["restarts"],
        node=row["node"],
        waiting_reason=waiting_reason(containers),
        cpu_millicores=row["cpu_millicores"],
        memory_bytes=row["memory_bytes"],
        timestamp=row["last_seen"],
    )


def app_document(
    namespace: str,
    app: str,
    *,
    slot: Row | None,
    live: Row | None,
    last: Row | None,
    active: Row | None,
    live_replicas: Row | None,
    pods: list[Row],
) -> AppView:
    """The app now, from its read-model rows.

    Args:
        slot: the ``apps`` row (which colour serves, which deployment holds the app).
        live: the deployment that put the serving colour in place (its image and URL).
        last: the app's latest deployment, finished or not.
        active: the deployment holding the app now, if any.
        live_replicas: the serving colour's Kubernetes Deployment (``cluster_resources``).
        pods: the app's pods that exist (not deleted).
    """
    status = (live_replicas or {}).get("status") or {}
    return AppView(
        app=app,
        namespace=namespace,
        live_colour=slot["serving_colour"] if slot else None,
        image=live["image"] if live else None,
        url=live["url"] if live else None,
        replicas=ReplicaCounts(
            desired=int(status.get("replicas") or 0), ready=int(status.get("readyReplicas") or 0)
        ),
        active_deployment=brief(active),
        last_deployment=brief(last),
        pods=sorted((pod_of_row(r) for r in pods), key=lambda p: p.name),
    )


def summary_of(row: Row) -> AppSummary:
    return AppSummary(
        app=row["app"],
        namespace=row["namespace"],
        live_colour=row["serving_colour"],
        active_deployment_id=row["active_deployment_id"],
        last_deployment_id=row["last_deployment_id"],
        last_outcome=row["last_outcome"],
        claimed_at=row["claimed_at"],
        updated_at=row["updated_at"],
    )
