"""Is an observation news? Only if a field that matters changed.

Everything in an observation matters except its ``resource_version``, which
moves on every write, including the periodic resyncs and status rewrites that
change nothing a person or the pipeline would notice.
"""

from __future__ import annotations

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
