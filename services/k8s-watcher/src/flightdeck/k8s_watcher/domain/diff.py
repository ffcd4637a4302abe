"""Is an observation news? Only if a field that matters changed.

Everything in an observation matters except its ``resource_version``, which
moves on every write, including the periodic resyncs and status rewrites that
change nothing a person or the pipeline would notice.

A resync (after any restart, reconnect or expired watch) compares a fresh list
of the cluster with the last state published for every object, and publishes
every difference, deletions included, parts before the wholes they make up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from flightdeck.events.cluster import (
    DeploymentObserved,
    IngressObserved,
    KubeEventObserved,
    PodObserved,
    ReplicaSetObserved,
    ResourceDeleted,
    ServiceObserved,
)

Observation = (
    DeploymentObserved
    | ReplicaSetObserved
    | PodObserved
    | ServiceObserved
    | IngressObserved
    | KubeEventObserved
    | ResourceDeleted
)
"""What describes an object's state (metrics samples are not: they are all published)."""


def significant(observation: Observation) -> Observation:
    """The observation with its bookkeeping fields blanked, for comparison."""
    if hasattr(observation, "resource_version"):
        return msgspec.structs.replace(observation, resource_version="")
    return observation


def changed(previous: Observation | None, current: Observation) -> bool:
    """Whether ``current`` should be published, given the last one published for the object."""
    if previous is None or isinstance(previous, ResourceDeleted):
        return not isinstance(current, ResourceDeleted)
    return significant(previous) != significant(current)


RESYNC_ORDER = ("Event", "Pod", "ReplicaSet", "Deployment", "Service", "Ingress")
"""Kinds in the order a resync publishes them: what happened to the parts (a pod
became Ready, and the Events saying so) before the wholes that count them (the
Deployment's available replicas), so the history reads in the order things
happened and a reader judging the whole has already seen its parts."""


def resync_order(kinds: Iterable[str]) -> list[str]:
    """``kinds`` sorted by :data:`RESYNC_ORDER` (unknown kinds last, in their order)."""
    rank = {kind: i for i, kind in enumerate(RESYNC_ORDER)}
    return sorted(kinds, key=lambda kind: rank.get(kind, len(rank)))


def differences(
    kind: str,
    namespace: str,
    published: Mapping[str, Observation],
    listed: Mapping[str, Observation | None],
) -> list[tuple[str, Observation]]:
    """What a resync must publish so the history holds the cluster's state.

    Args:
        kind: the kind compared (named in deletions).
        namespace: where the objects live.
        published: name → the last observation published for it (deletions included).
        listed: name → its observation now; ``None`` for an object that exists but
            could not be read (never reported as deleted).

    Returns:
        ``(name, observation)`` of the changed or new objects (in list order), then a
        deletion for every object last published alive that the list no longer holds.
    """
    out: list[tuple[str, Observation]] = [
        (name, current)
        for name, current in listed.items()
        if current is not None and changed(published.get(name), current)
    ]
    for name, previous in published.items():
        if name not in listed and not isinstance(previous, ResourceDeleted):
            uid = str(getattr(previous, "uid", "") or "")
            out.append((name, ResourceDeleted(kind=kind, namespace=namespace, name=name, uid=uid)))
    return out
