"""A deployment stream with its pods' logs learns its scope from the read model (CQRS) and
the few events after the row's position: it never folds the deployment's whole stream."""

from __future__ import annotations

from typing import Any

import pytest

from flightdeck.events import Recorded, subjects
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    DeploymentFailed,
    Stage,
    StageProgressed,
)
from flightdeck.gateway.service_layer import streams
from flightdeck.gateway.service_layer.streams import Streaming
from tests.support.recorded import recorded
from tests.support.samples import requested

pytestmark = pytest.mark.unit

DEP = "dep-scope"
SUBJECT = subjects.deployment(DEP)


class History:
    """A deployment's stored events, remembering which reads were asked of it."""

    def __init__(self, events: list[Recorded[Any]]) -> None:
        self.events = events
        self.reads: list[int] = []

    async def read_first(self, subject: str) -> Recorded[Any] | None:
        return next((r for r in self.events if r.subject == subject), None)

    async def read(self, subject: str, *, after: int = 0) -> list[Recorded[Any]]:
        self.reads.append(after)
        return [r for r in self.events if r.subject == subject and r.position > after]


class Rows:
    """The read model's deployments: ``row`` for ``acme``, nothing for anyone else."""

    def __init__(self, row: dict[str, Any] | None) -> None:
        self.row = row

    async def deployment(self, tenant: str, deployment_id: str) -> dict[str, Any] | None:
        return self.row if tenant == "acme" and deployment_id == DEP else None

    async def stages(self, deployment_id: str) -> list[dict[str, Any]]:
        return []

    async def deployments(self, tenant: str, **_: Any) -> tuple[list[dict[str, Any]], int]:
        return [], 0


async def _no_seek(subject: str, at: Any) -> int:
    raise AssertionError("the scope needs no log position")


def streaming(history: History, rows: Rows) -> Streaming:
    def no_subscription(*_: Any) -> Any:
        raise AssertionError("the scope opens no subscription")

    return Streaming(history=history, rows=rows, seek_logs=_no_seek, subscribe=no_subscription)


def story() -> list[Recorded[Any]]:
    """Requested, coloured, a progress report, then failed."""
    failed = DeploymentFailed(
        stage=Stage.ROLLOUT,
        error_code="X",
        message="x",
        rolled_back=True,
        serving_colour=None,
        total_duration_ms=1,
    )
    return [
        recorded(SUBJECT, requested(DEP)),
        recorded(SUBJECT, ColourAssigned(colour=Colour.GREEN, previous_colour=None)),
        recorded(SUBJECT, StageProgressed(stage=Stage.ROLLOUT, message="1/2", detail={})),
        recorded(SUBJECT, failed),
    ]


def row_after(events: list[Recorded[Any]], projected: int) -> dict[str, Any]:
    """The read model's row once the projector has seen the first ``projected`` events."""
    seen = events[:projected]
    return {
        "namespace": "default",
        "app": "web",
        "created_at": seen[0].time,
        "colour": "green" if projected >= 2 else None,
        "finished_at": None,
        "last_position": seen[-1].position,
    }


async def test_the_scope_comes_from_the_row_and_only_the_events_after_it() -> None:
    # arrange: the projector has seen the request and the colour, not the failure
    events = story()
    history, rows = History(events), Rows(row_after(events, 3))
    # act
    scope = await streams.log_scope(streaming(history, rows), "acme", DEP)
    # assert
    assert scope is not None
    assert (scope.namespace, scope.app, scope.colour) == ("default", "web", "green")
    assert scope.requested_at == events[0].time
    assert scope.ended_at == events[3].time  # learnt from the one event after the row
    assert history.reads == [events[2].position]


async def test_a_deployment_the_projector_has_not_seen_starts_from_its_request() -> None:
    events = story()
    history = History(events)
    scope = await streams.log_scope(streaming(history, Rows(None)), "acme", DEP)
    assert scope is not None
    assert (scope.colour, scope.ended_at) == ("green", events[3].time)
    assert history.reads == [events[0].position]


async def test_another_tenants_deployment_has_no_scope() -> None:
    events = story()
    history = History(events)
    assert await streams.log_scope(streaming(history, Rows(None)), "globex", DEP) is None
    assert history.reads == []
