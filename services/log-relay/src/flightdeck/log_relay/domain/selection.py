"""Which containers to follow, decided from the watcher's pod observations alone.

By default every container of every pod labelled ``app`` in the relay's
namespaces is followed, under that app's name. ``FollowLogs`` adds a label
selector for an app (in any namespace the watcher reports) and ``UnfollowLogs``
excludes an app; both are kept as :class:`FollowRule`s. A container is worth
attaching to once it has a log: it runs, ran, or restarted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import msgspec

from flightdeck.events.cluster import ContainerPhase, PodObserved
from flightdeck.events.commands import FollowLogs, UnfollowLogs

APP_LABEL = "app"
DEPLOYMENT_LABEL = "flightdeck.io/deployment"
"""The deployment that created a pod: its id is the deployment's correlation id (ADR 0025)."""


@dataclass(frozen=True, order=True)
class ContainerKey:
    namespace: str
    pod: str
    container: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.pod}/{self.container}"


class FollowRule(msgspec.Struct, frozen=True, kw_only=True):
    """What a ``FollowLogs`` (``follow``) or ``UnfollowLogs`` (not ``follow``) asked for."""

    namespace: str
    app: str
    follow: bool
    selector: dict[str, str] = {}
    tail_lines: int | None = None


Rules = Mapping[tuple[str, str], FollowRule]


class InvalidCommand(ValueError):
    """A follow command the relay cannot act on; it writes nothing."""


def rule_for(command: FollowLogs | UnfollowLogs) -> FollowRule:
    """The rule a follow command stands for; raises :class:`InvalidCommand`."""
    if not command.namespace or not command.app:
        raise InvalidCommand("namespace and app are required")
    if isinstance(command, UnfollowLogs):
        return FollowRule(namespace=command.namespace, app=command.app, follow=False)
    if command.tail_lines < 0:
        raise InvalidCommand(f"tail_lines must be 0 or more, got {command.tail_lines}")
    selector = dict(command.selector) or {APP_LABEL: command.app}
    if any(not key for key in selector):
        raise InvalidCommand("selector keys cannot be empty")
    return FollowRule(
        namespace=command.namespace,
        app=command.app,
        follow=True,
        selector=selector,
        tail_lines=command.tail_lines,
    )


@dataclass(frozen=True)
class FollowScope:
    """The relay's own settings: where following everything applies.

    Args:
        namespaces: the namespaces followed by default; ``None`` means all.
        follow_all: follow every ``app``-labelled pod there without being asked.
        tail_lines: lines of history taken when first attaching to a running container.
        node: only pods on this node (a relay reading one node's log files); ``None``: any.
    """

    namespaces: frozenset[str] | None
    follow_all: bool = True
    tail_lines: int = 100
    node: str | None = None


@dataclass(frozen=True)
class Target:
    """One container to follow and what is known about it right now.

    ``tail_lines`` is ``None`` for a pod first seen while the relay was running:
    its whole log is new, so it is read from the start. ``correlation_id`` is what
    its log events carry: the deployment that created the pod, else the pod's uid.
    """

    key: ContainerKey
    app: str
    node: str | None
    pod_uid: str
    restart_count: int
    running: bool
    has_log: bool
    tail_lines: int | None
    correlation_id: str = ""


def followed_as(pod: PodObserved, scope: FollowScope, rules: Rules) -> tuple[str, int] | None:
    """``(app, tail_lines)`` if ``pod`` is followed, else ``None``."""
    labels = pod.labels
    asked = sorted(
        (rule.app, rule)
        for (namespace, _), rule in rules.items()
        if namespace == pod.namespace
        and rule.follow
        and all(labels.get(k) == v for k, v in rule.selector.items())
    )
    if asked:
        rule = asked[0][1]
        return rule.app, scope.tail_lines if rule.tail_lines is None else rule.tail_lines
    app = labels.get(APP_LABEL)
    if not scope.follow_all or not app:
        return None
    if scope.namespaces is not None and pod.namespace not in scope.namespaces:
        return None
    excluded = rules.get((pod.namespace, app))
    if excluded is not None and not excluded.follow:
        return None
    return app, scope.tail_lines


def targets(pod: PodObserved, scope: FollowScope, rules: Rules, seen_live: bool) -> list[Target]:
    """The containers of ``pod`` to follow (none if the pod is not followed)."""
    if scope.node is not None and pod.node != scope.node:
        return []
    followed = followed_as(pod, scope, rules)
    if followed is None:
        return []
    app, tail_lines = followed
    return [
        Target(
            key=ContainerKey(pod.namespace, pod.name, c.name),
            app=app,
            node=pod.node,
            pod_uid=pod.uid,
            restart_count=c.restart_count,
            running=c.phase == ContainerPhase.RUNNING,
            has_log=c.phase != ContainerPhase.WAITING or c.restart_count > 0,
            tail_lines=None if seen_live else tail_lines,
            correlation_id=pod.labels.get(DEPLOYMENT_LABEL) or pod.uid,
        )
        for c in pod.containers
    ]
