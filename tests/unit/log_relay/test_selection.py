"""Which containers the relay follows, from pod observations and follow rules."""

from __future__ import annotations

import pytest

from flightdeck.events.cluster import ContainerPhase, ContainerState, PodObserved
from flightdeck.events.commands import FollowLogs, UnfollowLogs
from flightdeck.log_relay.domain.selection import (
    ContainerKey,
    FollowRule,
    FollowScope,
    InvalidCommand,
    rule_for,
    targets,
)

pytestmark = pytest.mark.unit

ALL = FollowScope(namespaces=None, follow_all=True, tail_lines=100)


def container(name: str, phase: ContainerPhase, restarts: int = 0) -> ContainerState:
    return ContainerState(
        name=name, image="shop/web:v1", phase=phase, ready=False, restart_count=restarts
    )


def pod(
    labels: dict[str, str],
    *containers: ContainerState,
    namespace: str = "shop",
    name: str = "web-1",
) -> PodObserved:
    return PodObserved(
        namespace=namespace,
        name=name,
        uid="uid-1",
        labels=labels,
        owner="web-rs",
        phase="Running",
        ready=True,
        node="node-1",
        pod_ip=None,
        host_ip=None,
        containers=list(containers),
        resource_version="1",
    )


RUNNING = container("app", ContainerPhase.RUNNING)


def test_every_container_of_an_app_pod_is_followed_under_its_app() -> None:
    found = targets(
        pod({"app": "web"}, RUNNING, container("sidecar", ContainerPhase.WAITING)),
        ALL,
        {},
        seen_live=False,
    )

    assert [(t.key, t.app, t.node, t.running, t.has_log, t.tail_lines) for t in found] == [
        (ContainerKey("shop", "web-1", "app"), "web", "node-1", True, True, 100),
        (ContainerKey("shop", "web-1", "sidecar"), "web", "node-1", False, False, 100),
    ]


def test_a_pod_seen_live_is_read_from_its_first_line() -> None:
    assert targets(pod({"app": "web"}, RUNNING), ALL, {}, seen_live=True)[0].tail_lines is None


def test_a_container_with_a_log_is_one_that_runs_ran_or_restarted() -> None:
    states = [
        container("a", ContainerPhase.TERMINATED),
        container("b", ContainerPhase.WAITING, restarts=2),
        container("c", ContainerPhase.WAITING),
    ]
    found = targets(pod({"app": "web"}, *states), ALL, {}, seen_live=False)

    assert [(t.key.container, t.has_log, t.running) for t in found] == [
        ("a", True, False),
        ("b", True, False),
        ("c", False, False),
    ]


def test_unlabelled_pods_other_namespaces_and_follow_all_off_are_not_followed() -> None:
    only_shop = FollowScope(namespaces=frozenset({"shop"}))

    assert targets(pod({"tier": "db"}, RUNNING), ALL, {}, seen_live=False) == []
    assert targets(pod({"app": "x"}, RUNNING, namespace="ops"), only_shop, {}, False) == []
    assert targets(pod({"app": "x"}, RUNNING), FollowScope(None, follow_all=False), {}, False) == []


def test_follow_rules_add_by_selector_and_exclude_by_app() -> None:
    follow = rule_for(
        FollowLogs(namespace="ops", app="jobs", selector={"tier": "batch"}, tail_lines=5)
    )
    exclude = rule_for(UnfollowLogs(namespace="shop", app="web"))
    rules = {("ops", "jobs"): follow, ("shop", "web"): exclude}
    scope = FollowScope(namespaces=frozenset({"shop"}))

    batch = targets(pod({"tier": "batch"}, RUNNING, namespace="ops"), scope, rules, False)
    web = targets(pod({"app": "web"}, RUNNING), scope, rules, False)
    api = targets(pod({"app": "api"}, RUNNING), scope, rules, False)

    assert [(t.app, t.tail_lines) for t in batch] == [("jobs", 5)]
    assert web == [] and [t.app for t in api] == ["api"]


def test_follow_commands_become_rules_or_are_refused() -> None:
    assert rule_for(FollowLogs(namespace="shop", app="web", selector={})) == FollowRule(
        namespace="shop", app="web", follow=True, selector={"app": "web"}, tail_lines=100
    )
    assert rule_for(UnfollowLogs(namespace="shop", app="web")).follow is False
    for bad in (
        FollowLogs(namespace="", app="web", selector={}),
        FollowLogs(namespace="shop", app="web", selector={}, tail_lines=-1),
        FollowLogs(namespace="shop", app="web", selector={"": "x"}),
        UnfollowLogs(namespace="shop", app=""),
    ):
        with pytest.raises(InvalidCommand):
            rule_for(bad)


def test_a_pod_is_only_ever_followed_under_its_own_namespace() -> None:
    """Log subjects are per namespace and a namespace has one tenant (ADR 0012): a rule in
    A's namespace that B's pod labels would match still never takes B's pod into A's app."""
    rule = rule_for(FollowLogs(namespace="team-a", app="web", selector={"app": "web"}))
    rules = {("team-a", "web"): rule}
    mine = targets(pod({"app": "web"}, RUNNING, namespace="team-a", name="a"), ALL, rules, False)
    theirs = targets(pod({"app": "web"}, RUNNING, namespace="team-b", name="b"), ALL, rules, False)

    assert [(t.key.namespace, t.app) for t in mine] == [("team-a", "web")]
    assert [(t.key.namespace, t.app) for t in theirs] == [("team-b", "web")]


def test_a_relay_reading_one_nodes_files_follows_only_that_nodes_pods() -> None:
    on_this_node = FollowScope(namespaces=None, node="node-1")
    elsewhere = FollowScope(namespaces=None, node="node-2")

    assert len(targets(pod({"app": "web"}, RUNNING), on_this_node, {}, False)) == 1
    assert targets(pod({"app": "web"}, RUNNING), elsewhere, {}, False) == []


def test_a_pods_lines_carry_the_correlation_of_the_deployment_that_created_it() -> None:
    made = pod({"app": "web", "flightdeck.io/deployment": "dep-7"}, RUNNING)

    assert targets(made, ALL, {}, False)[0].correlation_id == "dep-7"
    assert targets(pod({"app": "web"}, RUNNING), ALL, {}, False)[0].correlation_id == "uid-1"
