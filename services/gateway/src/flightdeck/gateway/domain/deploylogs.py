"""Which log lines belong on a deployment's stream (``?include=logs``): why a rollout failed.

A deployment's pods are the pods of its Kubernetes Deployment ``<app>-<colour>``
(named ``<app>-<colour>-<hash>-<id>``), and it owns them from its request until
shortly after it ends. Its stream carries their ERROR and FATAL lines in that
window. The colour is known from ``ColourAssigned``; until then no line
qualifies (no pod of the new colour exists before it is assigned).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events import deployments as d
from flightdeck.events.logs import LogLevel
from flightdeck.gateway.domain.logfilter import LineFilter

LEVELS = frozenset({LogLevel.ERROR, LogLevel.FATAL})
AFTER_END = timedelta(seconds=30)
"""Lines this long after the final event still count: a crash often logs after the verdict."""

_FINAL = (d.DeploymentCompleted, d.DeploymentFailed, d.DeploymentCancelled)


def pod_prefix(app: str, colour: str) -> str:
    """The names of a colour's pods start with its Deployment's name and a dash."""
    return f"{d.colour_name(app, colour)}-"


@dataclass
class DeploymentLogScope:
    """What is known of a deployment's pods; updated as its events arrive."""

    namespace: str
    app: str
    requested_at: datetime
    colour: str | None = None
    ended_at: datetime | None = None

    def line_filter(self) -> LineFilter:
        prefixes = (pod_prefix(self.app, self.colour),) if self.colour else ()
        until = self.ended_at + AFTER_END if self.ended_at is not None else None
        return LineFilter(
            levels=LEVELS, pod_prefixes=prefixes, since=self.requested_at, until=until
        )

    def observe(self, rec: Recorded[Any]) -> bool:
        """Learn from one deployment event; ``True`` when the line filter changes."""
        e = rec.event
        if isinstance(e, d.ColourAssigned) and self.colour != e.colour.value:
            self.colour = e.colour.value
            return True
        if isinstance(e, _FINAL) and self.ended_at is None:
            self.ended_at = rec.time
            return True
        return False


def scope_of(events: list[Recorded[Any]]) -> DeploymentLogScope | None:
    """The scope after a deployment's stored events (``None`` without its request)."""
    if not events or not isinstance(events[0].event, d.DeploymentRequested):
        return None
    first = events[0].event
    scope = DeploymentLogScope(first.namespace, first.app, events[0].time)
    for rec in events[1:]:
        scope.observe(rec)
    return scope
