"""An app's blue/green slots: claims serialise its deployments and pick colours."""

from __future__ import annotations

from typing import Any

import pytest

from flightdeck.events import Recorded
from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.base import Event
from flightdeck.events.deployments import Colour, DeploymentStatus
from flightdeck.orchestrator.domain.slots import claim, fold_slots, release
from tests.support.recorded import recorded as recorded_at
from tests.unit.orchestrator.story import T0

pytestmark = pytest.mark.unit


def recorded(*events: Event) -> list[Recorded[Any]]:
    return [
        recorded_at("fd.evt.app.apps.web", e, position=n, at=T0, id=f"a{n}")
        for n, e in enumerate(events, start=1)
    ]


def test_the_first_deployment_gets_blue() -> None:
    got = claim(fold_slots([]), "apps", "web", "d1")
    assert got is not None and (got.colour, got.previous_colour) == (Colour.BLUE, None)


def test_the_next_deployment_gets_the_colour_not_serving() -> None:
    slots = fold_slots(
        recorded(
            AppSlotClaimed(
                namespace="apps",
                app="web",
                deployment_id="d1",
                colour=Colour.BLUE,
                previous_colour=None,
            ),
            AppReleased(
                namespace="apps",
                app="web",
                deployment_id="d1",
                outcome=DeploymentStatus.SUCCEEDED,
                serving_colour=Colour.BLUE,
            ),
        )
    )
    got = claim(slots, "apps", "web", "d2")
    assert got is not None and (got.colour, got.previous_colour) == (Colour.GREEN, Colour.BLUE)
    assert slots.position == 2


def test_a_held_app_cannot_be_claimed_and_only_its_holder_releases_it() -> None:
    slots = fold_slots(
        recorded(
            AppSlotClaimed(
                namespace="apps",
                app="web",
                deployment_id="d1",
                colour=Colour.BLUE,
                previous_colour=None,
            )
        )
    )
    assert claim(slots, "apps", "web", "d2") is None
    assert release(slots, "apps", "web", "d2", DeploymentStatus.FAILED, None) is None
    assert release(slots, "apps", "web", "d1", DeploymentStatus.FAILED, None) is not None
