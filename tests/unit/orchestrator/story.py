"""Given events, when an input, then events: a deployment's history, built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.base import Event
from flightdeck.events.cluster import (
    Condition,
    ContainerPhase,
    ContainerState,
    DeploymentObserved,
    IngressObserved,
    PodObserved,
)
from flightdeck.events.deployments import Colour, ColourStats, DeploymentRequested
from flightdeck.orchestrator.domain.decide import decide
from flightdeck.orchestrator.domain.effects import Effect, effects
from flightdeck.orchestrator.domain.inputs import Input
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.domain.state import Deployment, fold
from tests.support.recorded import recorded
from tests.support.samples import requested

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = Policy(switch_delay_s=5.0, resume_after_s=10.0, retry_after_s=1.0)
DEP = "dep-1"


def request(**overrides: Any) -> DeploymentRequested:
    fields: dict[str, Any] = {
        "namespace": "apps",
        "tag": "v2",
        "replicas": 2,
        "verify_checks": 3,
        "stage_timeout_s": 60.0,
        "overall_timeout_s": 300.0,
    }
    fields.update(overrides)
    return requested(fields.pop("deployment_id", DEP), fields.pop("app", "web"), **fields)


class Story:
    """A deployment's recorded events, and decisions taken on top of them."""

    def __init__(self, *events: Event, policy: Policy = POLICY) -> None:
        self.records: list[Recorded[Any]] = []
        self.now = T0
        self.policy = policy
        self.given(*(events or (request(),)))

    def at(self, seconds: float) -> Story:
        self.now = T0 + timedelta(seconds=seconds)
        return self

    def given(self, *events: Event) -> Story:
        for event in events:
            n = len(self.records) + 1
            self.records.append(
                recorded(f"fd.evt.deploy.{DEP}", event, position=n * 10, at=self.now, id=f"e{n}")
            )
        return self

    @property
    def state(self) -> Deployment:
        s = fold(self.records)
        assert s is not None
        return s

    def when(self, given: Input) -> list[Event]:
        """Decide; the events are *not* recorded (use :meth:`then`)."""
        return decide(self.state, given, self.now, self.policy)

    def then(self, given: Input) -> tuple[list[Event], list[Effect]]:
        """Decide, record the events, and return them with the effects they ask for."""
        events = self.when(given)
        self.given(*events)
        return events, effects(self.state, events, self.policy)


def types(events: list[Event]) -> list[str]:
    return [e.type_name() for e in events]


def pod(
    name: str,
    *,
    colour: Colour = Colour.BLUE,
    phase: str = "Running",
    ready: bool = True,
    waiting: str | None = None,
    restarts: int = 0,
) -> PodObserved:
    container = ContainerState(
        name="app",
        image="web:v2",
        phase=ContainerPhase.WAITING if waiting else ContainerPhase.RUNNING,
        ready=ready and not waiting,
        restart_count=restarts,
        reason=waiting,
    )
    return PodObserved(
        namespace="apps",
        name=name,
        uid=f"uid-{name}",
        labels={"app": "web", "colour": colour.value, "flightdeck.io/deployment": DEP},
        owner="web-blue-abc",
        phase=phase,
        ready=ready and not waiting,
        node="n1",
        pod_ip=None,
        host_ip=None,
        containers=[container],
        resource_version="1",
    )


def deployment(
    *,
    name: str = "web-blue",
    generation: int = 1,
    observed: int = 1,
    replicas: int = 2,
    updated: int = 2,
    available: int = 2,
    status_replicas: int | None = None,
    deployment_id: str = DEP,
    conditions: list[Condition] | None = None,
) -> DeploymentObserved:
    return DeploymentObserved(
        namespace="apps",
        name=name,
        uid="uid-d",
        labels={"app": "web", "flightdeck.io/deployment": deployment_id},
        generation=generation,
        observed_generation=observed,
        replicas=replicas,
        updated_replicas=updated,
        ready_replicas=available,
        available_replicas=available,
        unavailable_replicas=replicas - available,
        conditions=conditions or [],
        resource_version="7",
        status_replicas=status_replicas,
    )


def ingress(address: str | None = "localhost", port: int | None = 8088) -> IngressObserved:
    return IngressObserved(
        namespace="apps",
        name="web",
        uid="uid-i",
        hosts=["web.localhost", "web-blue.localhost"],
        address=address,
        resource_version="9",
        labels={"app": "web", "flightdeck.io/deployment": DEP},
        port=port,
    )


def stats(colour: Colour, checks: int = 3, failures: int = 0) -> ColourStats:
    return ColourStats(
        colour=colour,
        checks=checks,
        failures=failures,
        latency_p50_ms=3.0,
        latency_p99_ms=9.0,
        error_rate=failures / checks,
    )
