"""What a resync publishes: every difference from the last state published, in order."""

from __future__ import annotations

import msgspec
import pytest

from flightdeck.events.cluster import ResourceDeleted, ServiceObserved
from flightdeck.k8s_watcher.domain.diff import RESYNC_ORDER, differences, resync_order

pytestmark = pytest.mark.unit


def service(name: str, port: int = 80, version: str = "1") -> ServiceObserved:
    return ServiceObserved(
        namespace="apps",
        name=name,
        uid=f"uid-{name}",
        selector={"app": name},
        cluster_ip=None,
        ports=[port],
        resource_version=version,
    )


def test_a_resync_publishes_changes_new_objects_and_deletions() -> None:
    published = {
        "same": service("same"),
        "moved": service("moved", 80),
        "gone": service("gone"),
        "long-gone": ResourceDeleted(kind="Service", namespace="apps", name="long-gone", uid="u"),
    }
    listed = {
        "same": service("same", version="7"),  # only its resourceVersion moved: not news
        "moved": service("moved", 8080),
        "new": service("new"),
        "unreadable": None,  # exists, could not be read: neither published nor deleted
    }
    got = differences("Service", "apps", published, listed)
    assert got == [
        ("moved", service("moved", 8080)),
        ("new", service("new")),
        ("gone", ResourceDeleted(kind="Service", namespace="apps", name="gone", uid="uid-gone")),
    ]


def test_an_object_recreated_after_its_deletion_is_published_again() -> None:
    gone = ResourceDeleted(kind="Service", namespace="apps", name="web", uid="old")
    again = msgspec.structs.replace(service("web"), uid="new")
    assert differences("Service", "apps", {"web": gone}, {"web": again}) == [("web", again)]


def test_nothing_to_publish_when_the_history_already_holds_the_cluster() -> None:
    state = {"a": service("a"), "b": service("b")}
    assert differences("Service", "apps", state, dict(state)) == []


def test_parts_are_resynced_before_the_wholes_that_count_them() -> None:
    kinds = ["Deployment", "Ingress", "ReplicaSet", "Pod", "Service", "Event"]
    assert resync_order(kinds) == list(RESYNC_ORDER)
    order = resync_order(kinds)
    assert order.index("Pod") < order.index("ReplicaSet") < order.index("Deployment")
    assert resync_order(["Deployment", "Custom", "Pod"]) == ["Pod", "Deployment", "Custom"]
