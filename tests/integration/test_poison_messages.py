"""Poison can't wedge: undecodable messages never block their aggregate, deadlines fire anyway.

Each test stores garbage where a real aggregate lives (a deployment, an app's
slots, a cluster object), then proves the next write and the next deadline
still happen, against a real nats-server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes_asyncio import client

from flightdeck.events import Cause, Recorded, new_id, streams, subjects
from flightdeck.events.apps import AppReleased
from flightdeck.events.cluster import IngressObserved
from flightdeck.events.deadletters import MessageDeadLettered
from flightdeck.events.deployments import DeploymentFailed, Stage, StageProgressed, StageStarted
from flightdeck.eventstore import EventStore
from flightdeck.k8s_watcher.adapters.publisher import Publisher
from flightdeck.orchestrator.adapters.aggregates import AppSlots, Deployments
from flightdeck.orchestrator.adapters.kubernetes import Kubernetes
from flightdeck.orchestrator.adapters.tenancy import TenancyGate
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.entrypoints.sample import start_deployment
from flightdeck.orchestrator.service_layer import handlers
from flightdeck.orchestrator.service_layer.effects import EffectRunner
from flightdeck.orchestrator.service_layer.intake import record_request
from flightdeck.orchestrator.service_layer.pipeline import Pipeline
from flightdeck.runtime.consumers import Consumers, ConsumerSpec
from flightdeck.runtime.ownership import Ownership
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

CAUSE = Cause.root("user:tests")
TENANT, NAMESPACE = "poisoned", "poison"  # the tenant owns the namespace (ADR 0012)
GARBAGE = b"\x00\xffnot an event{"


async def garbage(store: EventStore, subject: str, payload: bytes = GARBAGE) -> int:
    """Store undecodable bytes on ``subject``; their position."""
    ack = await store.nc.jetstream().publish(subject, payload)
    return int(ack.seq)


class Clock:
    """Now, or later: a deadline passes without waiting for it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
async def kube() -> AsyncIterator[Kubernetes]:
    """A Kubernetes adapter that is never reached: these deployments fail before Apply."""
    api = client.ApiClient(client.Configuration(host="http://127.0.0.1:9"))
    yield Kubernetes(api, 1.0)
    await api.close()


def orchestrator(store: EventStore, kube: Kubernetes, clock: Callable[[], datetime]) -> Pipeline:
    """A fresh orchestrator: empty caches, as after a restart."""
    slots = AppSlots(store)
    gate = TenancyGate(Ownership(store), protected=frozenset(), watched=None)
    return Pipeline(
        store, Deployments(store), slots, EffectRunner(store, kube, slots), Policy(), clock, gate
    )


async def command_of(store: EventStore, deployment: str) -> Recorded[Any]:
    """The ``StartDeployment`` sent for ``deployment``, as the orchestrator receives it."""
    sent = await store.read(subjects.START_DEPLOYMENT)
    return next(r for r in reversed(sent) if r.event.deployment_id == deployment)


async def requested(store: EventStore, **kw: Any) -> str:
    """A deployment whose request the orchestrator's intake has recorded (nothing more)."""
    deployment = await start_deployment(store, **kw)
    assert await record_request(store, await command_of(store, deployment))
    return deployment


async def started(store: EventStore, kube: Kubernetes, clock: Clock) -> tuple[str, str]:
    """A deployment of a fresh app, claimed and waiting in Artifact (60 s stage deadline)."""
    app = f"poison-{new_id()[:8].lower()}"
    await Ownership(store).record_tenant(TENANT, [NAMESPACE], CAUSE, protected=frozenset())
    deployment = await start_deployment(
        store,
        app=app,
        tenant=TENANT,
        namespace=NAMESPACE,
        stage_timeout_s=60.0,
        overall_timeout_s=600.0,
    )
    first = orchestrator(store, kube, clock)
    try:
        await handlers.dispatch(first, await command_of(store, deployment))
    finally:
        first.timers.cancel_all()
    stages = [r.event for r in await store.read(subjects.deployment(deployment))]
    assert isinstance(stages[-1], StageStarted) and stages[-1].stage is Stage.ARTIFACT
    return deployment, app


async def test_a_deployment_ending_in_garbage_still_accepts_its_next_event(
    store: EventStore,
) -> None:
    deployment = await requested(store, app="web", namespace="poison")
    subject = subjects.deployment(deployment)
    last = await garbage(store, subject)

    loaded = await Deployments(store).load(deployment)

    assert loaded is not None and loaded.position == last
    progress = StageProgressed(stage=Stage.ARTIFACT, message="still here")
    appended = await store.append(subject, [progress], cause=CAUSE, expected=loaded.position)
    assert appended.first_position == last + 1
    assert [r.type for r in await store.read(subject)] == [
        "deploy.requested",
        "deploy.stage_progressed",
    ]


async def test_a_cached_deployment_sees_garbage_appended_after_it(store: EventStore) -> None:
    deployment = await requested(store, app="web", namespace="poison")
    deployments = Deployments(store)
    assert await deployments.load(deployment) is not None
    last = await garbage(store, subjects.deployment(deployment))

    loaded = await deployments.load(deployment)

    assert loaded is not None and loaded.position == last


async def test_an_app_ending_in_garbage_can_still_be_claimed(store: EventStore) -> None:
    app = f"claim-{new_id()[:8].lower()}"
    await garbage(store, subjects.app("poison", app))

    slots = await AppSlots(store).claim("poison", app, "dep-1", CAUSE)

    assert slots.holder == "dep-1"


async def test_an_overdue_deadline_fires_from_the_scan_despite_garbage_after_a_restart(
    store: EventStore, kube: Kubernetes
) -> None:
    clock = Clock()
    deployment, app = await started(store, kube, clock)
    await garbage(store, subjects.deployment(deployment))
    await garbage(store, subjects.app("poison", app))  # the app's last message, too

    clock.offset = timedelta(seconds=61)  # past the Artifact deadline, before the overall one
    restarted = orchestrator(store, kube, clock)
    try:
        await restarted.scan()
    finally:
        restarted.timers.cancel_all()

    final = (await store.read(subjects.deployment(deployment)))[-1].event
    assert isinstance(final, DeploymentFailed) and final.error_code == "DEPLOYMENT_TIMEOUT"
    assert final.reason == "ARTIFACT_TIMEOUT"
    released = (await store.read(subjects.app("poison", app)))[-1].event
    assert isinstance(released, AppReleased) and released.deployment_id == deployment


async def test_the_watcher_publishes_again_after_garbage_on_an_object(store: EventStore) -> None:
    ns = f"poison-{new_id()[:8].lower()}"
    subject = subjects.cluster_object(ns, "Ingress", "web")
    publisher = Publisher(store)
    assert await publisher.observe("Ingress", "web", ingress(ns, "10.0.0.1"), "u1")
    await garbage(store, subject)

    assert await publisher.observe("Ingress", "web", ingress(ns, "10.0.0.2"), "u1")
    await garbage(store, subject)
    restarted = Publisher(store)
    await restarted.seed(ns, "Ingress")
    assert await restarted.observe("Ingress", "web", ingress(ns, "10.0.0.3"), "u1")
    addresses = [r.event.address for r in await store.read(subject)]
    assert addresses == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


def ingress(namespace: str, address: str) -> IngressObserved:
    return IngressObserved(
        namespace=namespace,
        name="web",
        uid="u1",
        hosts=["web.localhost"],
        address=address,
        resource_version="1",
        labels={"app": "web"},
    )


async def test_a_message_too_large_to_copy_is_still_dead_lettered(store: EventStore) -> None:
    service = f"svc-{new_id()[:8]}"
    subject = subjects.command(service, "do")
    handled: list[Recorded[Any]] = []

    async def handler(r: Recorded[Any]) -> None:
        handled.append(r)

    spec = ConsumerSpec(
        durable=f"{service}-commands",
        stream=streams.COMMANDS,
        subjects=(subject,),
        handler=handler,
        ack_wait_s=1.0,
        start="new",
    )
    ready = asyncio.Event()
    task = asyncio.create_task(Consumers(store, service, store.nc).run([spec], ready))
    try:
        await ready.wait()
        huge = bytes(range(128, 256)) * 6000  # 768 KB, every byte invalid UTF-8
        position = await garbage(store, subject, huge)

        async def letters() -> list[MessageDeadLettered]:
            return [r.event for r in await store.read(subjects.dead_letters(service))]

        found = await eventually(letters, within=30, what="the dead letter")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [(m.position, m.payload_bytes) for m in found] == [(position, len(huge))]
    assert len(found[0].payload.encode()) < 64 * 1024
