"""Opening streams: who may follow a deployment, and the subscriptions a stream is made of.

A subscription (hub, history reader, outbox) is an adapter built per client;
the controllers get it from :attr:`Streaming.subscribe`, which bootstrap
builds, so no controller constructs one. A deployment stream with its pods'
error lines (``?include=logs``) needs to know the deployment's app, colour and
time window: that comes from the read model (CQRS), plus the few events the
projector has not seen yet, never from folding the deployment's whole stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import msgspec

from flightdeck.events import Recorded, subjects
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.events.streams import AUDIT, CLUSTER, DEPLOYMENTS
from flightdeck.gateway.adapters.interleave import Interleaved, first_frame, second_frame
from flightdeck.gateway.adapters.joined import Joined, joined_frame
from flightdeck.gateway.adapters.streams import Frame, StreamSpec, Subscription
from flightdeck.gateway.domain import deploylogs, pipeline
from flightdeck.gateway.domain.appview import (
    AppCluster,
    TenantDeployments,
    app_of_ops,
    render_ops,
    render_slot,
)
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.deploylogs import DeploymentLogScope
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.logfilter import Cursor
from flightdeck.gateway.domain.logrender import ALL_LINES, LogRenderer
from flightdeck.gateway.domain.rendering import Rendered
from flightdeck.gateway.service_layer import apps
from flightdeck.gateway.service_layer.ports import DeploymentRows

_encode = msgspec.json.Encoder().encode

OpenSubscription = Callable[[StreamSpec, Frame], Subscription]
"""A new client's subscription to ``spec``, each event written with ``frame``."""

SeekLogs = Callable[[str, datetime], Awaitable[int]]
"""The position to replay a log subject after so that lines from a time on are all read."""


class DeploymentHistory(Protocol):
    """A deployment's stored events (one aggregate)."""

    async def read_first(self, subject: str) -> Recorded[Any] | None: ...

    async def read(self, subject: str, *, after: int = 0) -> list[Recorded[Any]]: ...

    async def read_last(self, subject: str) -> Recorded[Any] | None: ...


@dataclass(frozen=True)
class Streaming:
    """What opening a stream needs."""

    history: DeploymentHistory
    rows: DeploymentRows
    seek_logs: SeekLogs
    subscribe: OpenSubscription


async def check_deployment_visible(s: Streaming, who: Principal, deployment_id: str) -> None:
    """``DEPLOYMENT_NOT_FOUND`` unless the deployment exists in ``who``'s tenant.

    Read from the deployment's first event (one direct get), not the read
    model, so a client may open the stream right after ``POST /deploy``. Never
    cached: another tenant's deployment and an unknown id cost the same lookup.
    """
    first = await s.history.read_first(subjects.deployment(deployment_id))
    tenant = first.event.tenant if first and isinstance(first.event, DeploymentRequested) else None
    if tenant != who.tenant:
        raise ApiError(ErrorCode.DEPLOYMENT_NOT_FOUND, f"no deployment {deployment_id}")


async def ended_within(s: Streaming, deployment_id: str, after: int) -> bool:
    """Whether a client that has seen up to ``after`` has seen the deployment's end.

    The terminal event (``done`` or ``error``) is the deployment's last, so one
    read of its last event decides: a reconnect at or past it is answered 204,
    the WHATWG signal that stops an ``EventSource`` (instead of a connection
    held open with nothing ever to send).
    """
    if after <= 0:
        return False
    last = await s.history.read_last(subjects.deployment(deployment_id))
    if last is None or last.position > after:
        return False
    rendered = pipeline.render(last)
    return rendered is not None and rendered.terminal


def deployment_events(s: Streaming, deployment_id: str, after: int, frame: Frame) -> Subscription:
    """A deployment's events after ``after``, history then live."""
    spec = StreamSpec(subjects.deployment(deployment_id), pipeline.render, after=after)
    return s.subscribe(spec, frame)


async def log_scope(s: Streaming, tenant: str, deployment_id: str) -> DeploymentLogScope | None:
    """Which of its pods' lines a deployment's stream carries, as of its latest event.

    The read model's row says it as of the position it has projected; only the
    events after that position are read. A deployment the projector has not
    seen yet (just requested) starts from its request: its first event.
    """
    subject = subjects.deployment(deployment_id)
    row = await s.rows.deployment(tenant, deployment_id)
    if row is not None:
        scope = DeploymentLogScope(
            namespace=row["namespace"],
            app=row["app"],
            requested_at=row["created_at"],
            colour=row["colour"],
            ended_at=row["finished_at"],
        )
        after = int(row["last_position"])
    else:
        first = await s.history.read_first(subject)
        found = deploylogs.scope_of([first] if first is not None else [])
        if found is None or first is None or first.event.tenant != tenant:
            return None
        scope, after = found, first.position
    for rec in await s.history.read(subject, after=after):
        scope.observe(rec)
    return scope


async def deployment_with_logs(
    s: Streaming, who: Principal, deployment_id: str, after: int, log_cursor: Cursor | None
) -> Interleaved:
    """A deployment's events and its pods' ERROR/FATAL lines, interleaved (ADR 0011)."""
    scope = await log_scope(s, who.tenant, deployment_id)
    if scope is None:
        raise ApiError(ErrorCode.DEPLOYMENT_NOT_FOUND, f"no deployment {deployment_id}")
    lines = LogRenderer(scope.line_filter(), log_cursor)

    def watch(rec: Recorded[Any]) -> Rendered | None:
        if scope.observe(rec):
            lines.line_filter = scope.line_filter()
        return pipeline.render(rec)

    subject = subjects.deployment(deployment_id)
    log_subject = subjects.app_logs(scope.namespace, scope.app)
    if log_cursor is not None:
        log_after = log_cursor.after
    else:
        log_after = await s.seek_logs(log_subject, scope.requested_at)
    first = s.subscribe(
        StreamSpec(subject, pipeline.render, after=after, client_filter=watch), first_frame
    )
    second = s.subscribe(
        StreamSpec(log_subject, ALL_LINES, after=log_after, client_filter=lines), second_frame
    )
    return Interleaved(first, second, (str(after), str(log_cursor or Cursor(log_after))))


# ------------------------------------------------------------------ the app view (ADR 0023)

APP_SOURCES = 4
"""An app stream's cursor: ``<cluster>/<slot>/<deployments>/<audit>`` positions."""
FEED_SOURCES = 2
"""A tenant feed's cursor: ``<deployments>/<audit>`` positions."""


async def app_stream(
    s: Streaming,
    v: apps.AppViewing,
    who: Principal,
    namespace: str,
    app: str,
    cursor: list[int] | None,
) -> Joined:
    """An app's pods, CPU/memory, Kubernetes Deployments, slot, deployments' stages and
    ops actions, live.

    Without a cursor the stream starts with the app now (``event: app``, from the
    read model), its id the positions the read model had reached before it was read,
    then every event after them (a few may repeat what the document already shows:
    each is the whole state of its pod or object). With a cursor: exactly the events
    after it.
    """
    first: list[tuple[str, bytes]] = []
    if cursor is None:
        cluster = await v.rows.projected_upto(CLUSTER)
        slot = deployments = await v.rows.projected_upto(DEPLOYMENTS)
        audit = await v.store.stream_last_position(AUDIT)
        document = await apps.app_view(v, who.tenant, namespace, app)
        first.append(("app", _encode(document)))
    else:
        cluster, slot, deployments, audit = cursor
    known = await apps.known_deployments(v, who.tenant, deployments, namespace=namespace, app=app)
    mine = TenantDeployments(who.tenant, v.feed_render, known, namespace=namespace, app=app)
    pods = await apps.known_pods(v, namespace, app, cluster)
    samples = await apps.samples_before(v, namespace, pods, cluster)
    watch = AppCluster(
        app, v.cluster_render, pods=pods, last_sample=samples, interval_s=v.interval_s
    )
    cluster_filter = subjects.cluster_object(namespace, "x", "x")[: -len("x.x")] + ">"
    parts = [
        s.subscribe(
            StreamSpec(cluster_filter, v.cluster_render, after=cluster, client_filter=watch),
            joined_frame,
        ),
        s.subscribe(
            StreamSpec(subjects.app(namespace, app), render_slot, after=slot), joined_frame
        ),
        s.subscribe(
            StreamSpec(
                subjects.ALL_DEPLOYMENTS, v.feed_render, after=deployments, client_filter=mine
            ),
            joined_frame,
        ),
        s.subscribe(
            StreamSpec(
                subjects.ops(who.tenant, app),
                render_ops,
                after=audit,
                client_filter=app_of_ops(namespace),
            ),
            joined_frame,
        ),
    ]
    return Joined(parts, first)


async def tenant_feed(
    s: Streaming, v: apps.AppViewing, who: Principal, cursor: list[int] | None
) -> Joined:
    """Every deployment event (stage, done, error) and ops action of ``who``'s tenant.

    Without a cursor the feed starts now, with ``event: ready`` whose id is where it
    starts (a client that reconnects with it misses nothing); with one, exactly the
    events after it.
    """
    first: list[tuple[str, bytes]] = []
    if cursor is None:
        deployments = await v.store.stream_last_position(DEPLOYMENTS)
        audit = await v.store.stream_last_position(AUDIT)
        first.append(("ready", _encode({"tenant": who.tenant})))
    else:
        deployments, audit = cursor
    known = await apps.known_deployments(v, who.tenant, deployments)
    watch = TenantDeployments(who.tenant, v.feed_render, known)
    parts = [
        s.subscribe(
            StreamSpec(
                subjects.ALL_DEPLOYMENTS, v.feed_render, after=deployments, client_filter=watch
            ),
            joined_frame,
        ),
        s.subscribe(StreamSpec(apps.tenant_ops(who.tenant), render_ops, after=audit), joined_frame),
    ]
    return Joined(parts, first)
