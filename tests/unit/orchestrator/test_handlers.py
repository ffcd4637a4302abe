"""Routing: each consumed message reaches the deployment(s) it concerns, and nothing else."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from flightdeck.events import Recorded, subjects
from flightdeck.events.artifacts import ImageObserved
from flightdeck.events.base import Event
from flightdeck.events.commands import CancelDeployment, deployment_requested
from flightdeck.events.deployments import Stage, StageProgressed
from flightdeck.eventstore.memory import InMemoryEventStore
from flightdeck.orchestrator.domain.inputs import Observed
from flightdeck.orchestrator.entrypoints.sample import sample_command
from flightdeck.orchestrator.service_layer import handlers
from tests.support.recorded import recorded as recorded_at
from tests.unit.orchestrator.story import T0, pod, request

pytestmark = pytest.mark.unit


class FakePipeline:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any, str | None]] = []
        self.store = InMemoryEventStore()

    async def request(self, deployment_id: str, trigger: str) -> None:
        self.calls.append(("request", deployment_id, trigger))

    async def advance(self, deployment_id: str, given: Any, trigger: str | None) -> None:
        self.calls.append((deployment_id, given, trigger))


def recorded(event: Event, position: int = 7) -> Recorded[Any]:
    return recorded_at("fd.evt.deploy.dep-1", event, position=position, at=T0, id="m1")


async def dispatch(
    event: Event, fake: FakePipeline | None = None
) -> list[tuple[str, Any, str | None]]:
    fake = fake or FakePipeline()
    await handlers.dispatch(fake, recorded(event))  # type: ignore[arg-type]
    return fake.calls


async def test_a_start_command_records_the_request_then_starts_it() -> None:
    fake = FakePipeline()
    start = sample_command(deployment_id="dep-1", app="web", registry=None)

    assert await dispatch(start, fake) == [("request", "dep-1", "m1")]

    (stored,) = await fake.store.read(subjects.deployment("dep-1"))
    assert stored.event == deployment_requested(start)
    # its correlation is the deployment: what the pods' label and log lines carry too
    assert (stored.causation_id, stored.correlation_id) == ("m1", "dep-1")


async def test_our_own_request_event_is_not_what_starts_a_deployment() -> None:
    assert await dispatch(request()) == []


async def test_a_cancel_goes_to_its_deployment() -> None:
    cancel = CancelDeployment(deployment_id="dep-9", reason="x")
    assert await dispatch(cancel) == [("dep-9", cancel, "m1")]


async def test_an_image_goes_to_every_deployment_waiting_for_it() -> None:
    image = ImageObserved(
        repository="web",
        tag="v1",
        digest="d",
        pushed_at=None,
        size_bytes=None,
        deployment_ids=["a", "b"],
    )
    assert await dispatch(image) == [
        ("a", Observed(image, 7), "m1"),
        ("b", Observed(image, 7), "m1"),
    ]


async def test_a_pod_goes_to_the_deployment_in_its_label_and_unlabelled_ones_nowhere() -> None:
    labelled = pod("web-blue-1")
    assert await dispatch(labelled) == [("dep-1", Observed(labelled, 7), "m1")]
    assert await dispatch(msgspec.structs.replace(pod("other"), labels={})) == []


async def test_our_own_events_are_not_handled() -> None:
    assert await dispatch(StageProgressed(stage=Stage.ROLLOUT, message="x")) == []
