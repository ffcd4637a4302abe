"""How each event changes the read model: pure functions, one explicit map.

For every event type a :class:`Projection` says which rows it touches (so the
projector can load them first) and how it changes them. Event types missing
from :data:`PROJECTIONS` change nothing; the projector counts them.
"""

from __future__ import annotations

from flightdeck.readmodel.projections import (
    access,
    apps,
    cluster,
    deployments,
    monitors,
    notifications,
    probes,
    tenancy,
)
from flightdeck.readmodel.projections.base import Projection

PROJECTIONS: dict[type, Projection] = {
    **deployments.PROJECTIONS,
    **apps.PROJECTIONS,
    **cluster.PROJECTIONS,
    **probes.PROJECTIONS,
    **monitors.PROJECTIONS,
    **notifications.PROJECTIONS,
    **access.PROJECTIONS,
    **tenancy.PROJECTIONS,
}

__all__ = ["PROJECTIONS", "Projection"]
