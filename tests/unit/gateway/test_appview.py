"""The app view's pure parts (ADR 0023): which cluster events belong to an app, metrics
coalesced per pod per polling interval, the tenant's deployments, ops payloads, cursors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest

from flightdeck.events import subjects
from flightdeck.events.audit import OpsAction, OpsActionFailed
from flightdeck.events.cluster import ContainerUsage, PodMetricsSampled, ResourceDeleted
from flightdeck.events.deployments import Colour, DeploymentCompleted
from flightdeck.gateway.adapters.joined import cursor_of, parse_cursor
from flightdeck.gateway.domain.appview import (
    AppCluster,
    RenderCache,
    TenantDeployments,
    render_cluster,
    render_feed_deployment,
    render_ops,
)
from tests.support.recorded import recorded
from tests.support.samples import T0, one_of_each, progressed, requested

NS = "default"


def sample(pod: str, interval_s: float | None = 30.0) -> PodMetricsSampled:
    usage = [ContainerUsage(name="app", cpu_millicores=5.0, memory_bytes=1 << 20)]
    return PodMetricsSampled(
        namespace=NS, pod=pod, window_s=30.0, containers=usage, interval_s=interval_s
    )


def at(event: Any, seconds: float, name: str = "web-blue-1") -> Any:
    kind = "PodMetrics" if isinstance(event, PodMetricsSampled) else "Pod"
    return recorded(
        subjects.cluster_object(NS, kind, name), event, at=T0 + timedelta(seconds=seconds)
    )


def sent(view: AppCluster, *recs: Any) -> list[float]:
    return [rec.time.timestamp() for rec in recs if view(rec) is not None]


def test_one_sample_per_pod_per_interval_whatever_was_published() -> None:
    view = AppCluster("web", render_cluster, pods={"web-blue-1"}, interval_s=30.0)
    recs = [at(sample("web-blue-1"), s) for s in (0, 1, 20, 30, 31, 45, 60.5, 80)]
    assert sent(view, *recs) == [recs[i].time.timestamp() for i in (0, 3, 6)]


def test_a_timer_firing_a_little_early_still_counts_as_an_interval() -> None:
    view = AppCluster("web", render_cluster, pods={"web-blue-1"}, interval_s=30.0)
    recs = [at(sample("web-blue-1"), s) for s in (0, 29.9, 59.8)]
    assert len(sent(view, *recs)) == 3


def test_the_samples_interval_wins_over_the_setting() -> None:
    view = AppCluster("web", render_cluster, pods={"web-blue-1"}, interval_s=30.0)
    recs = [at(sample("web-blue-1", interval_s=5.0), s) for s in (0, 2, 5, 10)]
    assert len(sent(view, *recs)) == 3
    old = AppCluster("web", render_cluster, pods={"web-blue-1"}, interval_s=30.0)
    recs = [at(sample("web-blue-1", interval_s=None), s) for s in (100, 105, 130)]
    assert len(sent(old, *recs)) == 2


def test_pods_are_coalesced_independently_and_a_resumed_client_waits_an_interval() -> None:
    first = at(sample("web-blue-1"), 0)
    view = AppCluster(
        "web",
        render_cluster,
        pods={"web-blue-1", "web-blue-2"},
        last_sample={"web-blue-1": first.time},
        interval_s=30.0,
    )
    one = at(sample("web-blue-1"), 10)
    two = at(sample("web-blue-2", interval_s=30.0), 10, name="web-blue-2")
    assert [view(one), view(two) is not None] == [None, True]


def test_only_the_apps_pods_pass_and_are_learned_from_their_label() -> None:
    ((_, pod_event),) = [(s, e) for s, e in one_of_each("k") if type(e).__name__ == "PodObserved"]
    theirs = msgspec.structs.replace(pod_event, labels={"app": "other"})
    view = AppCluster("web", render_cluster, interval_s=30.0)
    assert view(at(sample(pod_event.name), 0, pod_event.name)) is None  # not known yet
    assert view(at(theirs, 1, theirs.name)) is None
    assert view(at(pod_event, 2, pod_event.name)).event == "pod"
    assert view(at(sample(pod_event.name), 3, pod_event.name)).event == "metrics"
    gone = ResourceDeleted(kind="Pod", namespace=NS, name=pod_event.name, uid="u")
    assert view(at(gone, 4, pod_event.name)).event == "pod_deleted"
    stranger = ResourceDeleted(kind="Pod", namespace=NS, name="other-blue-1", uid="u")
    assert view(at(stranger, 5, "other-blue-1")) is None


def test_the_tenant_feed_learns_its_deployments_from_their_requests() -> None:
    feed = TenantDeployments("acme", render_feed_deployment, known={"old"})
    mine = recorded(subjects.deployment("d1"), requested("d1", tenant="acme"))
    theirs = recorded(subjects.deployment("d2"), requested("d2", tenant="globex"))
    assert feed(mine) is not None and feed(theirs) is None
    assert feed(recorded(subjects.deployment("d1"), progressed(1))) is not None
    assert feed(recorded(subjects.deployment("d2"), progressed(1))) is None
    assert feed(recorded(subjects.deployment("old"), progressed(1))) is not None


def test_a_deployments_final_event_does_not_end_the_tenant_feed() -> None:
    done = DeploymentCompleted(
        colour=Colour.BLUE, url=None, stage_durations_ms={}, total_duration_ms=1
    )
    rendered = render_feed_deployment(recorded(subjects.deployment("d1"), done))
    assert rendered is not None
    assert (rendered.event, rendered.terminal) == ("done", False)


def test_an_ops_event_carries_its_actor_status_and_own_fields() -> None:
    failed = OpsActionFailed(
        action_id="a1",
        action=OpsAction.SCALE,
        namespace=NS,
        target="web-blue",
        error_code="FORBIDDEN",
        message="denied",
    )
    rendered = render_ops(recorded(subjects.ops("acme", "web"), failed, actor="key:ci"))
    assert rendered is not None
    body = msgspec.json.decode(rendered.data)
    assert body["status"] == "FAILED" and body["actor"] == "key:ci"
    assert (body["actionId"], body["errorCode"], body["message"]) == ("a1", "FORBIDDEN", "denied")


def test_each_event_is_rendered_once() -> None:
    calls: list[int] = []

    def render(rec: Any) -> Any:
        calls.append(rec.position)
        return render_cluster(rec)

    cache = RenderCache(render, size=2)
    rec = at(sample("web-blue-1"), 0)
    assert cache(rec) is cache(rec)
    assert calls == [rec.position]


def test_cursors() -> None:
    assert parse_cursor("1/2/3", 3) == [1, 2, 3]
    assert cursor_of([4, 5]) == "4/5"
    for bad in ("1/2", "1/x/3", "", "-1/2/3", "1/2/3/4"):
        with pytest.raises(ValueError, match=r"."):
            parse_cursor(bad, 3)
